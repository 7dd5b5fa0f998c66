"""The one kit of the browser tests: the demo city in the test database, a uvicorn subprocess on the test
database and Redis, and headless Chromium from Debian driven by Playwright (never a downloaded browser).

Servers: `start(port)` → `Served` (the field and public pages' tests; the scheduler runs in-process), or the
module-scoped `app` fixture → `App` (the wall and console tests; the port is the module's PORT, chosen by the
kernel, so suites sharing a machine never collide). The demo city comes from tests/demo_fixtures.py (`demo_db`).

Browsers: the `browser` fixture (a Chromium for the module) with `open_page` (signed in, every request on
`page.requested`, `foreign_requests` lists those that left the app), or `pages()` → `Pages.context()` (a
context recording requests and responses, `Recorded.assert_own_origin`). Screenshots go to var/screenshots/
(docs/screenshots/ with `make screenshots`)."""

from __future__ import annotations

import asyncio
import json
import os
import struct
import tempfile
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, Playwright, async_playwright
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from command.core.settings import Settings
from command.demo.people import DEMO_PASSWORD
from tests.demo_fixtures import demo_db  # noqa: F401  (fixture)
from tests.environment import make_test_settings
from tests.procs import log_tail, server_env, start_server, stop, wait_ready

# A test run never rewrites committed files: screenshots go to var/screenshots (looked at after a run);
# `make screenshots` (GRIDCMD_REFRESH_SCREENSHOTS=1) writes the committed ones in docs/screenshots.
_ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = _ROOT / ("docs" if os.environ.get("GRIDCMD_REFRESH_SCREENSHOTS") == "1" else "var") / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
PHONE = {"width": 390, "height": 844}
DESK = {"width": 1440, "height": 900}
# Text a resident could type or paste: markup and script that must stay text on every page (if any of it ran or
# became markup, window.__xss or an <img src=x> would exist).
XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>&lt;b&gt;'
# A system reason as command/assign/assignment.py writes it, and how a zh-CN page shows it (app/reasons.js).
NO_WORKER = "no_worker: 1 of 2 workers available within 3000 m"
NO_WORKER_ZH = "附近无可派网格员 · 1 of 2 workers available within 3000 m"


# ---- servers -------------------------------------------------------------------------------------------------

@dataclass
class Served:
    base: str
    proc: Any
    upload_dir: str


async def start(port: int, settings: Settings | None = None, *, jobs: bool = True, **env: str) -> Served:
    """A server on `port` over an empty Redis, like a new deployment. With
    `jobs`, the scheduler runs in-process every second (deadlines adopted within a second); `env`: more settings."""
    settings = settings or make_test_settings()
    async with Redis.from_url(settings.redis_url) as r:
        await r.flushdb()
    uploads = tempfile.mkdtemp(prefix="gridcmd-uploads-")
    # No presence warm-up: over an empty Redis the demo's hundreds of on-duty workers have not reported, and
    # these tests place the one or two they need (the wait after a flush: tests/assign/test_dispatch_warmup.py).
    extra = {"GRIDCMD_UPLOAD_DIR": uploads, "GRIDCMD_LOG_LEVEL": "warning", "GRIDCMD_PRESENCE_WARMUP_QUORUM": "0"}
    if jobs:
        extra |= {"GRIDCMD_RUN_JOBS_IN_WEB": "true", "GRIDCMD_SCHEDULER_INTERVAL_S": "1"}
    extra |= env
    proc = start_server(port, server_env(settings, **extra))
    try:
        await asyncio.to_thread(wait_ready, port, proc=proc, timeout=60)
    except Exception:
        stop(proc)
        raise
    return Served(f"http://127.0.0.1:{port}", proc, uploads)


def finish(served: Served) -> None:
    code = stop(served.proc)
    if code not in (0, -15):
        print(log_tail(served.proc))


@dataclass
class App:
    """The running server and what tests do to it through the API."""

    base: str
    http: httpx.AsyncClient
    engine: AsyncEngine
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)

    async def login(self, username: str) -> dict[str, Any]:
        if username not in self.sessions:
            r = await self.http.post("/api/v1/auth/token", data={"username": username, "password": DEMO_PASSWORD})
            r.raise_for_status()
            self.sessions[username] = r.json()
        return self.sessions[username]

    async def headers(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {(await self.login(username))['access_token']}"}

    async def call(self, method: str, path: str, username: str, **kwargs: Any) -> httpx.Response:
        return await self.http.request(method, path, headers=await self.headers(username), **kwargs)

    async def alert(self, *, username: str = "operator", **body: Any) -> dict[str, Any]:
        body.setdefault("channel", "hotline")
        r = await self.call("POST", "/api/v1/alerts", username, json=body)
        assert r.status_code == 201, r.text
        return r.json()

    async def sql(self, query: str, **params: Any) -> list[Any]:
        return await sql(self.engine, query, **params)

    async def point_in(self, code: str) -> tuple[float, float]:
        """A point surely inside region `code`."""
        (row,) = await self.sql("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM regions "
                                "WHERE code = :c) s", c=code)
        return float(row[0]), float(row[1])

    async def workers_in(self, street: str, n: int) -> list[tuple[str, int, float, float]]:
        """(username, worker id, home lon, lat) of the first `n` workers whose grid lies in `street`."""
        rows = await self.sql("SELECT u.username, w.id, ST_X(w.home), ST_Y(w.home) FROM workers w "
                              "JOIN users u ON u.id = w.user_id WHERE w.grid_codes[1] LIKE :p ORDER BY w.id LIMIT :n",
                              p=street + "%", n=n)
        return [(r[0], r[1], float(r[2]), float(r[3])) for r in rows]

    async def place(self, username: str, lon: float, lat: float) -> None:
        """The worker reports being at (lon, lat) and on duty."""
        r = await self.call("POST", "/api/v1/workers/me/position", username, json={"lon": lon, "lat": lat})
        assert r.status_code == 200, r.text


@pytest.fixture(scope="module")
async def app(demo_db: AsyncEngine, settings: Settings, request: pytest.FixtureRequest) -> AsyncIterator[App]:  # noqa: F811
    """The module's server (port: the module's PORT) without in-process jobs, and an API client to it."""
    served = await start(request.module.PORT, settings, jobs=False)
    try:
        async with httpx.AsyncClient(base_url=served.base, timeout=20) as http:
            yield App(base=served.base, http=http, engine=demo_db)
    finally:
        finish(served)


# ---- API and database helpers ---------------------------------------------------------------------------------

async def token(base: str, username: str) -> dict[str, str]:
    async with httpx.AsyncClient(base_url=base) as c:
        r = await c.post("/api/v1/auth/token", data={"username": username, "password": DEMO_PASSWORD})
        r.raise_for_status()
        return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def api(base: str, method: str, path: str, who: dict[str, str], **kw: object) -> httpx.Response:
    async with httpx.AsyncClient(base_url=base, timeout=15) as c:
        return await c.request(method, path, headers=who, **kw)


async def sql(engine: AsyncEngine, query: str, **params: object) -> list:
    async with engine.connect() as conn:
        return list((await conn.execute(text(query), params)).all())


async def until(check: Callable[[], Awaitable[object]], *, within: float = 30, what: str = "condition",
                served: Served | None = None) -> object:
    """Poll `check` until it returns something truthy."""
    deadline = time.monotonic() + within
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            tail = log_tail(served.proc) if served else ""
            raise AssertionError(f"timed out waiting for {what}\n{tail}")
        await asyncio.sleep(0.2)


async def worker_home(engine: AsyncEngine, username: str) -> tuple[int, float, float]:
    (row,) = await sql(engine, "SELECT w.id, ST_X(w.home), ST_Y(w.home) FROM workers w JOIN users u "
                               "ON u.id = w.user_id WHERE u.username = :u", u=username)
    return int(row[0]), float(row[1]), float(row[2])


async def system_reason(engine: AsyncEngine, incident_id: int, reason: str) -> None:
    """An `incident.attention` event with a system reason (as command/assign/assignment.py writes them) on the
    incident's timeline, committed: the pages must show its code in the page language."""
    async with engine.begin() as conn:
        await conn.execute(text(
            "INSERT INTO events (kind, incident_id, actor, reason, region_path, payload) "
            "SELECT 'incident.attention', id, 'system:dispatcher', :r, region_path, '{}'::jsonb "
            "FROM incidents WHERE id = :i"), {"i": incident_id, "r": reason})


def png(width: int = 64, height: int = 48, rgb: tuple[int, int, int] = (200, 60, 40)) -> bytes:
    """A real PNG (a photo stand-in) built with zlib: the client decodes and re-encodes it as a JPEG."""
    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


# ---- browsers -------------------------------------------------------------------------------------------------

async def launch(pw: Playwright) -> Browser:
    return await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def foreign(urls: list[str], base: str) -> list[str]:
    """Requests that went anywhere but the app itself (blob: and data: URLs stay in the page)."""
    return [u for u in urls if not (u.startswith(base + "/") or u.startswith(("blob:", "data:")))]


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        b = await launch(pw)
        yield b
        await b.close()


async def open_page(browser: Browser, app: App, path: str, *, username: str = "operator", width: int = 1920,
                    height: int = 1080, lang: str | None = None, timezone_id: str | None = None) -> Page:
    """A signed-in page at its real size (in the browser time zone `timezone_id` if given); every request it
    makes is recorded on `page.requested`, uncaught errors on `page.errors`."""
    session = await app.login(username)
    context = await browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=1,
                                        timezone_id=timezone_id)
    if lang:
        await context.add_cookies([{"name": "lang", "value": lang, "url": app.base}])
    # The token as the login page stores it (localStorage of the app's origin).
    origin, stored = json.dumps(app.base), json.dumps(json.dumps(session))
    await context.add_init_script(
        f"try {{ if (location.origin === {origin}) localStorage.setItem('gridcmd.auth', {stored}); }} catch (e) {{}}")
    page = await context.new_page()
    page.requested = []  # type: ignore[attr-defined]
    page.errors = []  # type: ignore[attr-defined]
    page.on("request", lambda r: page.requested.append(r.url))  # type: ignore[attr-defined]
    page.on("pageerror", lambda e: page.errors.append(str(e)))  # type: ignore[attr-defined]
    await page.goto(app.base + path)
    return page


def foreign_requests(page: Page, base: str) -> list[str]:
    return foreign(page.requested, base)  # type: ignore[attr-defined]


@dataclass
class Recorded:
    urls: list[str] = field(default_factory=list)
    responses: list[tuple[str, str, int]] = field(default_factory=list)  # method, url, status

    def assert_own_origin(self, base: str) -> None:
        bad = foreign(self.urls, base)
        assert not bad, f"requests to other hosts: {bad}"
        assert self.urls, "nothing was recorded"

    def count(self, method: str, path_end: str, status: int | None = None) -> int:
        return sum(1 for m, u, s in self.responses
                   if m == method and u.split("?")[0].endswith(path_end) and (status is None or s == status))


class Pages:
    """One Chromium for a module; contexts record their requests."""

    def __init__(self, browser: Browser) -> None:
        self.browser = browser

    async def context(self, *, viewport: dict, geo: tuple[float, float] | None = None,
                      lang: str = "zh-CN") -> tuple[BrowserContext, Recorded]:
        opts: dict = {"viewport": viewport, "locale": lang, "timezone_id": "Asia/Shanghai"}
        if geo is not None:
            opts.update(geolocation={"longitude": geo[0], "latitude": geo[1], "accuracy": 8},
                        permissions=["geolocation"])
        ctx = await self.browser.new_context(**opts)
        rec = Recorded()
        ctx.on("request", lambda req: rec.urls.append(req.url))
        ctx.on("response", lambda res: rec.responses.append((res.request.method, res.url, res.status)))
        return ctx, rec


async def pages() -> AsyncIterator[Pages]:
    async with async_playwright() as pw:
        b = await launch(pw)
        try:
            yield Pages(b)
        finally:
            await b.close()


def watch_errors(page: Page) -> list[str]:
    """Uncaught page errors (a test asserts there were none)."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


# ---- screenshots ----------------------------------------------------------------------------------------------

async def save_screenshot(page: Page, name: str, *, quantise: bool = True, still: bool = False) -> Path:
    """docs/screenshots/<name>; quantised to a palette (the committed PNG stays small) unless told not to;
    `still` stops CSS animations first."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    await page.screenshot(path=str(path), animations="disabled" if still else "allow")
    if quantise:
        from PIL import Image

        with Image.open(path) as im:
            im.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
                path, optimize=True)
    return path


async def shot(page: Page, name: str) -> Path:
    """The field and public pages' screenshots: docs/screenshots/<name>.png, still, full colour."""
    return await save_screenshot(page, f"{name}.png", quantise=False, still=True)
