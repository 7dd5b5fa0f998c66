"""Browser tests against the real thing: the demo city in the test database, a uvicorn subprocess on the test
database and Redis, and headless Chromium from Debian driven by Playwright (never a downloaded browser).

Module-scoped: each browser module gets the demo city (tests/demo_fixtures.py: reloaded only when another module
emptied it; earlier work cleared) and starts its own server. Every page records each request it makes;
`foreign_requests(page, base)` lists those that left the app's origin (the pages must make none)."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright
from redis import Redis as SyncRedis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from command.demo.people import DEMO_PASSWORD
from command.settings import Settings
from tests.demo_fixtures import demo_db  # noqa: F401  (fixture)
from tests.procs import free_ports, log_tail, server_env, start_server, stop, wait_ready

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
# Text a resident could type: markup and script that must stay text on every page.
XSS = '<img src=x onerror=window.__xss=1><script>window.__xss=1</script>'


def server_port(default: int) -> int:
    """The module's own port, or a free one in GRIDCMD_TEST_PORTS ("8300-8349") when several people share a
    machine and each has a range of ports."""
    ports = os.environ.get("GRIDCMD_TEST_PORTS")
    if not ports:
        return default
    first, last = (int(p) for p in ports.split("-"))
    return free_ports(1, first, last)[0]


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
        async with self.engine.connect() as conn:
            return list((await conn.execute(text(query), params)).all())

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


def _server(settings: Settings, port: int) -> Any:
    SyncRedis.from_url(settings.redis_url).flushdb()  # live state and the stream start empty, like a new deployment
    proc = start_server(port, server_env(settings, GRIDCMD_LOG_LEVEL="warning"))
    try:
        wait_ready(port, proc=proc, timeout=60)
    except Exception:
        stop(proc)
        raise
    return proc


@pytest.fixture(scope="module")
async def app(demo_db: AsyncEngine, settings: Settings, request: pytest.FixtureRequest) -> AsyncIterator[App]:  # noqa: F811
    port = server_port(request.module.PORT)
    proc = _server(settings, port)
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=20) as http:
            yield App(base=base, http=http, engine=demo_db)
    finally:
        code = stop(proc)
        if code not in (0, -15):
            print(log_tail(proc))


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        await b.close()


async def open_page(browser: Browser, app: App, path: str, *, username: str = "operator", width: int = 1920,
                    height: int = 1080, lang: str | None = None, timezone_id: str | None = None) -> Page:
    """A signed-in page at its real size (in the browser time zone `timezone_id` if given); every request it
    makes is recorded on `page.requested`."""
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
    """Requests that went anywhere but the app itself (blob: and data: URLs stay in the page)."""
    return [u for u in page.requested if not (u.startswith(base + "/") or u.startswith(("blob:", "data:")))]  # type: ignore[attr-defined]


async def save_screenshot(page: Page, name: str) -> Path:
    """A full-size screenshot, quantised to a palette so the committed PNG stays small."""
    from PIL import Image

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    await page.screenshot(path=str(path))
    with Image.open(path) as im:
        im.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
            path, optimize=True)
    return path
