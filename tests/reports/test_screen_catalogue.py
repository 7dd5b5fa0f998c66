"""Every string the wall display and the console show comes from the catalogue, in both languages: the literal
keys in their templates and scripts, and a label for every state, order state, channel, deadline kind, resource
kind and attention code the server can send (a new one without a label would show as a raw code)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from command.core.attention import NO_DEPARTMENT, NO_WORKER, OFFERS_FAILED, OUTSIDE
from command.core.lifecycle import IncidentStatus, OrderStatus
from command.core.models import DEADLINE_KINDS
from command.intake.intake import CHANNELS
from geo.models import ResourceKind
from web.i18n import LANGS, catalogue

WEB = Path(__file__).resolve().parents[2] / "web"
SCRIPTS = [*sorted((WEB / "static" / "screen").glob("*.js")), *sorted((WEB / "static" / "console").glob("*.js")),
           *[WEB / "static" / "app" / f for f in ("rows.js", "countdown.js", "catalog.js", "status.js")]]
TEMPLATES = [WEB / "templates" / "screen.html", WEB / "templates" / "console.html"]
# Keys built from parts, in templates ({{ t["screen.kpi_" ~ k] }}) and scripts (t("screen.worker_" + a)).
LOOPED = [f"screen.kpi_{k}" for k in ("received", "dispatched", "resolved", "on_time", "satisfaction")] + [
    f"priority.{p}" for p in (1, 2, 3, 4)] + [f"screen.ranking_{lvl}" for lvl in
                                              ("district", "street", "community", "grid", "microgrid")] + [
    "console.group_emergency", "console.group_service", "screen.worker_available", "screen.worker_busy",
    "screen.unmute", "common.live", "common.reconnecting"]


def _literal_keys() -> set[str]:
    keys: set[str] = set()
    for path in SCRIPTS:
        keys |= set(re.findall(r"\bt\(\s*\"([a-z_]+\.[a-z0-9_.]+)\"", path.read_text(encoding="utf-8")))
    keys = {k for k in keys if not k.endswith(("_", "."))}  # t("screen.worker_" + a): the parts are in LOOPED
    for path in TEMPLATES:
        keys |= set(re.findall(r"t\[\s*[\"']([a-z_]+\.[a-z0-9_.]+)[\"']\s*\]", path.read_text(encoding="utf-8")))
    return keys


def _labels() -> set[str]:
    return ({f"status.{s.value}" for s in IncidentStatus} | {f"order.{s.value}" for s in OrderStatus}
            | {f"channel.{c}" for c in CHANNELS} | {f"deadline.{k}" for k in DEADLINE_KINDS}
            | {f"resource.{k.value}" for k in ResourceKind}
            | {f"availability.{a}" for a in ("available", "assigned", "busy", "off_duty", "away")}
            | {f"attention.{c}" for c in (OUTSIDE, NO_WORKER, NO_DEPARTMENT, OFFERS_FAILED)}
            | {"order.kind_worker", "order.kind_department"})


def test_the_scan_finds_the_keys() -> None:
    keys = _literal_keys()
    assert {"screen.sound_enable", "console.new_call", "screen.no_alarms", "screen.title"} <= keys
    assert len(keys) > 60


@pytest.mark.parametrize("lang", LANGS)
def test_every_key_the_screens_use_is_in_the_catalogue(lang: str) -> None:
    strings = catalogue(lang)
    missing = sorted(k for k in _literal_keys() | set(LOOPED) | _labels() if not strings.get(k))
    assert missing == []


def test_english_is_not_chinese_left_untranslated() -> None:
    zh, en = catalogue("zh-CN"), catalogue("en")
    same = sorted(k for k in _literal_keys() | _labels()
                  if en.get(k) == zh.get(k) and re.search(r"[\u4e00-\u9fff]", zh.get(k, "")))
    assert same == []
