"""Real-browser tests of the field and public pages: the Debian Chromium driven by Playwright (never a
downloaded browser) against a real uvicorn server, PostgreSQL with the demo city and Redis.

`served` starts one server per test module; `Browser.context()` opens a context that records every request
(`assert_own_origin` fails on any other host); `shot()` saves a screenshot under docs/screenshots/."""

from __future__ import annotations

import asyncio
import struct
import tempfile
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from playwright.async_api import Browser, BrowserContext, Page, async_playwright
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from command.demo.people import DEMO_PASSWORD
from tests.conftest import make_test_settings
from tests.procs import log_tail, server_env, start_server, stop, wait_ready

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
PHONE = {"width": 390, "height": 844}
DESK = {"width": 1440, "height": 900}
# What a resident might paste: if any of it ran or became markup, window.__xss or an <img src=x> would exist.
XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>&lt;b&gt;'
# A system reason as command/assignment.py writes it, and how a zh-CN page shows it (app/reasons.js).
NO_WORKER = "no_worker: 1 of 2 workers available within 3000 m"
NO_WORKER_ZH = "附近无可派网格员 · 1 of 2 workers available within 3000 m"


@dataclass
class Served:
    base: str
    proc: object
    upload_dir: str


async def start(port: int) -> Served:
    """The server on `port` with the scheduler in-process (deadlines adopted within a second)."""
    from tests.browser_fixtures import server_port

    port = server_port(port)
    settings = make_test_settings()
    async with Redis.from_url(settings.redis_url) as r:
        await r.flushdb()
    uploads = tempfile.mkdtemp(prefix="gridcmd-uploads-")
    env = server_env(settings, GRIDCMD_RUN_JOBS_IN_WEB="true", GRIDCMD_SCHEDULER_INTERVAL_S="1",
                     GRIDCMD_UPLOAD_DIR=uploads, GRIDCMD_LOG_LEVEL="warning")
    proc = start_server(port, env)
    await asyncio.to_thread(wait_ready, port, proc=proc, timeout=60)
    return Served(f"http://127.0.0.1:{port}", proc, uploads)


def finish(served: Served) -> None:
    stop(served.proc)


@dataclass
class Recorded:
    urls: list[str] = field(default_factory=list)
    responses: list[tuple[str, str, int]] = field(default_factory=list)  # method, url, status

    def assert_own_origin(self, base: str) -> None:
        foreign = [u for u in self.urls if not (u.startswith(base + "/") or u.startswith(("data:", "blob:")))]
        assert not foreign, f"requests to other hosts: {foreign}"
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
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield Pages(browser)
        finally:
            await browser.close()


def watch_errors(page: Page) -> list[str]:
    """Uncaught page errors (a test asserts there were none)."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


async def shot(page: Page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    await page.screenshot(path=str(path), animations="disabled")
    return path


def png(width: int = 64, height: int = 48, rgb: tuple[int, int, int] = (200, 60, 40)) -> bytes:
    """A real PNG (a photo stand-in) built with zlib: the client decodes and re-encodes it as a JPEG."""
    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


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
            tail = log_tail(served.proc) if served else ""  # type: ignore[arg-type]
            raise AssertionError(f"timed out waiting for {what}\n{tail}")
        await asyncio.sleep(0.2)


async def worker_home(engine: AsyncEngine, username: str) -> tuple[int, float, float]:
    (row,) = await sql(engine, "SELECT w.id, ST_X(w.home), ST_Y(w.home) FROM workers w JOIN users u "
                               "ON u.id = w.user_id WHERE u.username = :u", u=username)
    return int(row[0]), float(row[1]), float(row[2])


async def system_reason(engine: AsyncEngine, incident_id: int, reason: str) -> None:
    """An `incident.attention` event with a system reason (as command/assignment.py writes them) on the
    incident's timeline, committed: the pages must show its code in the page language."""
    async with engine.begin() as conn:
        await conn.execute(text(
            "INSERT INTO events (kind, incident_id, actor, reason, region_path, payload) "
            "SELECT 'incident.attention', id, 'system:dispatcher', :r, region_path, '{}'::jsonb "
            "FROM incidents WHERE id = :i"), {"i": incident_id, "r": reason})
