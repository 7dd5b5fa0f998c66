"""The front end's conventions (docs/frontend.md), held by scanning web/static and web/templates:

- a module imports others relative to itself (`../app/x.js`), never by a root path (`/static/app/x.js`), and
  every import names a file that exists; templates name static files through `{{ static }}` (the router's path,
  a root_path prefix kept), never as a literal `/static/`;
- the small helpers shared by the pages are defined once, in web/static/app/, and nowhere else;
- the worker app's service worker keeps every module the app imports, so it still opens offline.

Each scan is also run on a sample that breaks its rule, so a scan that stopped finding anything would fail."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from web.app import create_app

WEB = Path(__file__).resolve().parents[2] / "web"
STATIC = WEB / "static"
TEMPLATES = WEB / "templates"

# import … from "x"; export … from "x"; import "x"; import("x")
IMPORT = re.compile(r"""(?:\bimport\s*(?:[\w*{}\s,$]+\s*from\s*)?|\bexport\s*[\w*{}\s,$]+\s*from\s*"""
                    r"""|\bimport\s*\(\s*)["']([^"']+)["']""")

# (what, pattern of a definition or hand-made copy, the one module allowed to have it)
SHARED = [
    ("$", re.compile(r"(?:\b(?:const|let|var)\s+\$\s*=|\bfunction\s+\$\s*\()"), "app/dom.js"),
    ("toast", re.compile(r"\b(?:function\s+toast(?:er)?\s*\(|(?:let|var)\s+toastTimer\b)"), "app/toast.js"),
    ("throttle", re.compile(r"\bfunction\s+throttle\s*\(|if\s*\(\s*(\w+)\s*\)\s*\{?\s*return;?\s*\}?\s*\1\s*=\s*"
                            r"(?:window\.)?setTimeout\("), "app/timing.js"),
    ("debounce", re.compile(r"\bfunction\s+debounce\s*\(|clearTimeout\((\w+)\);\s*\1\s*=\s*(?:window\.)?setTimeout\(\s*"
                            r"(?:\w+|\([^)]*\)\s*=>[^,]*),\s*\d+\s*\)"), "app/timing.js"),
    ("batched", re.compile(r"\bqueueMicrotask\s*\("), "app/timing.js"),
    ("where", re.compile(r"\bfunction\s+where\s*\("), "app/incident.js"),
    ("the auth store", re.compile(r"window\.gridcmd\.auth\b"), "app/auth.js"),
    ("the token request", re.compile(r"/api/v1/auth/(?:token|logout)\b"), "app/auth.js"),
    ("the net badge", re.compile(r"[\"']m\.net_"), "app/netbadge.js"),
    ("the live badge", re.compile(r"[\"']common\.reconnecting[\"']"), "app/header.js"),
]


def scripts() -> list[Path]:
    return sorted(p for p in STATIC.rglob("*.js") if "vendor" not in p.relative_to(STATIC).parts)


def imports(source: str) -> list[str]:
    return IMPORT.findall(re.sub(r"^\s*//.*$", "", source, flags=re.MULTILINE))


def bad_imports(path: Path, source: str) -> list[str]:
    """Imports that are not relative, or that name no file."""
    bad = []
    for spec in imports(source):
        if not spec.startswith(("./", "../")):
            bad.append(f"{path.relative_to(STATIC)}: {spec} (import relative to the module: ./x.js, ../app/x.js)")
        elif not (path.parent / spec).resolve().is_file():
            bad.append(f"{path.relative_to(STATIC)}: {spec} (no such file)")
    return bad


def bad_template_refs(name: str, source: str) -> list[str]:
    """Literal /static/ paths, and {{ static }} paths that name no file."""
    bad = [f"{name}: {m.group(0)} (write {{{{ static }}}}…)" for m in re.finditer(r"[\"']/static/[^\"']*", source)]
    for ref in re.findall(r"\{\{\s*static\s*\}\}([^\"'\s>]+)", source):
        if not (STATIC / ref).is_file():
            bad.append(f"{name}: {{{{ static }}}}{ref} (no such file)")
    return bad


def copies(rel: str, source: str) -> list[str]:
    """Shared helpers defined, or made by hand again, outside their one module."""
    code = re.sub(r"^\s*//.*$", "", source, flags=re.MULTILINE)
    return [f"{rel}: {what} (use web/static/{home})" for what, pattern, home in SHARED
            if rel != home and pattern.search(code)]


def test_scans_see_the_whole_front_end() -> None:
    found = scripts()
    assert len(found) > 50 and STATIC / "app" / "auth.js" in found and STATIC / "m" / "sw.js" in found
    assert sum(len(imports(p.read_text(encoding="utf-8"))) for p in found) > 150
    assert len(list(TEMPLATES.glob("*.html"))) >= 8


def test_modules_import_relative_to_themselves() -> None:
    bad = [line for p in scripts() for line in bad_imports(p, p.read_text(encoding="utf-8"))]
    assert bad == []


def test_templates_name_static_files_through_the_router() -> None:
    bad = [line for p in sorted(TEMPLATES.glob("*.html")) for line in bad_template_refs(p.name, p.read_text("utf-8"))]
    assert bad == []
    assert 'url_for("static"' in (TEMPLATES / "base.html").read_text(encoding="utf-8")


def test_shared_helpers_are_defined_once() -> None:
    bad = [line for p in scripts() for line in copies(p.relative_to(STATIC).as_posix(), p.read_text("utf-8"))]
    assert bad == []
    for _, pattern, home in SHARED:  # and each helper is where the table says
        assert pattern.search((STATIC / home).read_text(encoding="utf-8")), home


@pytest.mark.parametrize(("sample", "expected"), [
    ('import { t } from "/static/app/i18n.js";', "import relative"),
    ('export { t } from "/static/app/i18n.js";', "import relative"),
    ('const nav = await import("/static/m/nav.js");', "import relative"),
    ('import gcoord from "../vendor/gcoord/nope.js";', "no such file"),
])
def test_the_import_scan_finds_a_wrong_import(sample: str, expected: str) -> None:
    assert expected in " ".join(bad_imports(STATIC / "m" / "main.js", sample))


@pytest.mark.parametrize(("sample", "expected"), [
    ('<script type="module" src="/static/m/main.js"></script>', "write {{ static }}"),
    ("<link rel='stylesheet' href='/static/app/base.css'>", "write {{ static }}"),
    ('<script type="module" src="{{ static }}m/nope.js"></script>', "no such file"),
])
def test_the_template_scan_finds_a_literal_path(sample: str, expected: str) -> None:
    assert expected in " ".join(bad_template_refs("x.html", sample))


@pytest.mark.parametrize(("sample", "what"), [
    ("const $ = (id) => document.getElementById(id);", "$"),
    ("let toastTimer = null;\nfunction toast(message) {}", "toast"),
    ("let drawTimer = null;\nstore.onChange(() => {\n  if (drawTimer) { return; }\n"
     "  drawTimer = window.setTimeout(() => { drawTimer = null; draw(); }, 200);\n});", "throttle"),
    ("const later = () => { window.clearTimeout(t); t = window.setTimeout(() => refresh(), 250); };", "debounce"),
    ("refreshSoon() { window.clearTimeout(timer); timer = window.setTimeout(refresh, 250); },", "debounce"),
    ("if (!queued) { queued = true; queueMicrotask(render); }", "batched"),
    ("function where(inc) {", "where"),
    ("const auth = window.gridcmd.auth;", "the auth store"),
    ('fetch("/api/v1/auth/logout", { method: "POST" })', "the token request"),
    ('el.textContent = t("m.net_" + state);', "the net badge"),
    ('el.textContent = t(live ? "common.live" : "common.reconnecting");', "the live badge"),
])
def test_the_copy_scan_finds_a_copy(sample: str, what: str) -> None:
    assert f"dept/main.js: {what} (" in " ".join(copies("dept/main.js", sample))


def module_closure(entry: Path) -> set[Path]:
    """Every module `entry` imports, directly or not (static imports: what must load before it runs)."""
    seen: set[Path] = set()
    todo = [entry]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        source = re.sub(r"\bimport\s*\(\s*[\"'][^\"']+[\"']\s*\)", "", path.read_text(encoding="utf-8"))
        todo += [(path.parent / spec).resolve() for spec in imports(source)]
    return seen


async def test_the_worker_apps_offline_shell_holds_every_module_it_imports(settings) -> None:
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        sw = (await client.get("/m/sw.js")).text
    shell = set(json.loads(re.search(r"const SHELL = (\[.*?\]);", sw).group(1)))
    needed = {"/static/" + p.relative_to(STATIC).as_posix() for p in module_closure(STATIC / "m" / "main.js")}
    assert "/static/app/auth.js" in needed and "/static/app/incident.js" in needed  # the walk follows imports
    assert sorted(needed - shell) == []
