"""Logs that can be followed: under `gridcmd serve` every line is one JSON object; the request id of one
POST /alerts (the caller's X-Request-ID) is on the intake, dispatch and socket lines of that alert with its
incident id, and no line of the run holds a phone number or a token."""

from __future__ import annotations

import asyncio
import json
import logging
import re

import httpx
import pytest

from command.core.db import make_sessionmaker
from command.core.logctx import accept_request_id
from command.core.settings import Settings
from command.ops.logs import JsonFormatter, parse_levels, redact
from tests.dispatch_fixtures import add_user, add_workers, at, seed_world
from tests.environment import make_test_settings
from tests.ops.served import gridcmd_serve
from tests.ws_helpers import close_all, events, open_ws, subscribe

PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
pytestmark = pytest.mark.timeout(90)


async def test_one_alert_followed_from_request_to_socket(clean_db, redis) -> None:
    settings = make_test_settings()
    async with make_sessionmaker(clean_db)() as s, s.begin():
        await seed_world(s)
        op = await add_user(s, settings, username="op", role="operator")
        [(worker, home)] = await add_workers(s, settings, [at(0.5, 1.5)])
    with gridcmd_serve(settings, GRIDCMD_LOG_LEVEL="info", GRIDCMD_LOG_FORMAT="json",
                       GRIDCMD_DISPATCH_BACKGROUND="false") as served:
        async with httpx.AsyncClient(base_url=served.base, timeout=10) as http:
            r = await http.post("/api/v1/workers/me/position", json={"lon": home[0], "lat": home[1]},
                                headers=worker.headers)
            assert r.status_code == 200, r.text
            ws = await open_ws(served.port, op.token)
            await subscribe(ws)
            rid = "alert-trace-0001"
            lon, lat = at(0.5, 1.5)
            r = await http.post("/api/v1/alerts", headers={**op.headers, "X-Request-ID": rid}, json={
                "category": "dispute", "description": "张三说邻居13912345678半夜吵闹", "lon": lon, "lat": lat,
                "channel": "hotline", "reporter": {"name": "张三", "phone": "13812345678"}})
            assert r.status_code == 201, r.text
            assert r.headers["x-request-id"] == rid
            incident_id = r.json()["id"]
            frames = await events(ws, 2)
            assert all(f["type"] == "event" for f in frames)
            # No id sent: one is made; a phone number offered as an id is not taken.
            r2 = await http.get("/api/v1/incidents?token=" + op.token, headers={"X-Request-ID": "13812345678"})
            assert r2.headers["x-request-id"] != "13812345678"
            await close_all()
            await asyncio.sleep(0.3)
    lines = served.lines()
    records = []
    for line in lines:
        if line.startswith("{"):
            records.append(json.loads(line))
    assert len(records) >= 5 and len(records) >= len(lines) - 3  # uvicorn's own start banner aside
    mine = [r for r in records if r.get("request_id") == rid]
    by_logger = {r["logger"]: r for r in mine}
    assert {"command.intake.intake", "command.assign.assignment", "web.hub"} <= set(by_logger), mine
    for name in ("command.intake.intake", "command.assign.assignment", "web.hub"):
        assert by_logger[name]["incident_id"] == incident_id
    assert any(r["logger"] == "uvicorn.access" for r in mine)
    text = "\n".join(lines)
    assert not PHONE.search(text), [line for line in lines if PHONE.search(line)]
    for secret in (op.token, worker.token, settings.secret_key, "张三"):
        assert secret not in text


def test_redaction_and_request_ids() -> None:
    assert redact("call 13812345678 or +86 15912345678, Bearer abc.def") == "call [phone] or [phone], Bearer [redacted]"
    assert redact("/x?token=eyJabc.def&k=1") == "/x?token=[redacted]&k=[redacted]"
    assert redact('{"password": "hunter2"}') == '{"password": "[redacted]"}'
    assert accept_request_id("abc-12345") == "abc-12345"
    for bad in (None, "", "short", "has space in it", "13812345678", "x" * 65):
        assert accept_request_id(bad) != bad
    record = logging.LogRecord("gridcmd.t", logging.INFO, "", 0, "see %s", ("13812345678",), None)
    record.note = "token=abc ?k=zzz"
    line = json.loads(JsonFormatter().format(record))
    assert line["msg"] == "see [phone]" and "zzz" not in line["note"]


def test_levels_per_module() -> None:
    assert parse_levels("gridcmd.hub=debug, uvicorn.access=WARNING") == {"gridcmd.hub": "DEBUG",
                                                                          "uvicorn.access": "WARNING"}
    with pytest.raises(ValueError):
        parse_levels("gridcmd.hub")
    with pytest.raises(ValueError):
        parse_levels("gridcmd.hub=loud")
    from command.ops.logs import log_config

    config = log_config(Settings(log_levels="web.hub=debug", secret_key="k" * 40))
    assert config["loggers"]["web.hub"]["level"] == "DEBUG"
