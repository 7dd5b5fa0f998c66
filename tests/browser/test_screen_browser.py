"""The wall display in a real browser: Debian's headless Chromium, a real uvicorn server, the demo city.

The simulator runs a small crew first, so the city is alive. Signs in through /login, opens /screen at
1920×1080, waits until MapLibre has drawn region features from the PostGIS vector tiles, checks that nothing was
requested from another host, and saves the screenshot that docs/screenshots/screen-demo.png shows."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Page, async_playwright

from command.demo.people import DEMO_PASSWORD
from command.demo.simulator import Simulator
from tests.browser_kit import SCREENSHOTS, Served, finish, launch, save_screenshot, start
from tests.procs import free_port, log_tail

PORT = free_port()  # chosen by the kernel: two suites can run on one machine
SCREENSHOT = SCREENSHOTS / "screen-demo.png"


@pytest.fixture(scope="module")
async def server(demo_db, settings) -> AsyncIterator[Served]:
    served = await start(PORT, settings, jobs=False)
    try:
        yield served
    finally:
        await asyncio.to_thread(finish, served)


async def _poll(page: Page, script: str, within_s: float = 30.0) -> object:
    """Evaluate until truthy. (page.wait_for_function would need 'unsafe-eval', which the page's CSP refuses.)"""
    deadline = time.monotonic() + within_s
    while True:
        value = await page.evaluate(script)
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"still falsy after {within_s}s: {script}")
        await asyncio.sleep(0.25)


RENDERED_LEVELS = """() => {
  const map = window.gridcmd && window.gridcmd.map;
  if (!map || !map.getSource('regions') || !map.isSourceLoaded('regions')) return null;
  const levels = new Set(map.queryRenderedFeatures().filter(f => f.source === 'regions')
                            .map(f => f.properties.level));
  return levels.size ? [...levels].sort() : null;
}"""


@pytest.fixture
async def living_city(server, settings):
    """Workers on patrol and a burst of alerts, as `gridcmd demo --serve` makes (a smaller crew, for speed).
    The simulator stops before the browser opens: what it made (incidents, positions) stays for the picture."""
    sim = Simulator(settings, base_url=server.base, seed=7, rate=4.0, workers=24)
    sim.step_s = 0.5
    run = asyncio.create_task(sim.run(handle_signals=False))
    deadline = time.monotonic() + 90
    while not (sim.stats["logins"] == 24 and sim.stats["alerts"] >= 10 and sim.stats["positions"] >= 24):
        assert time.monotonic() < deadline and not run.done(), dict(sim.stats)
        await asyncio.sleep(0.2)
    sim.stop.set()
    assert await asyncio.wait_for(run, 15) == 0
    return sim


async def test_screen_shows_the_demo_city(server, living_city) -> None:
    requests: list[str] = []
    tile_auth: list[str | None] = []
    async with async_playwright() as pw:
        browser = await launch(pw)
        try:
            context = await browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
            context.on("request", lambda r: requests.append(r.url))
            context.on("request", lambda r: tile_auth.append(r.headers.get("authorization"))
                       if "/tiles/" in r.url else None)
            page = await context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))

            await page.goto(f"{server.base}/screen")
            await page.wait_for_url("**/login?next=%2Fscreen")  # no token yet: off to the login page
            await page.fill("#username", "operator")
            await page.fill("#password", "wrong-password")
            await page.click("#login-submit")
            await page.wait_for_selector("#login-error:not([hidden])")
            assert "用户名或密码错误" in await page.inner_text("#login-error")

            await page.fill("#password", DEMO_PASSWORD)
            await page.click("#login-submit")
            await page.wait_for_url(f"{server.base}/screen")
            levels = await _poll(page, RENDERED_LEVELS)
            assert {"district", "street", "community"} <= set(levels), levels  # type: ignore[arg-type]
            assert "城南区" in await page.inner_text("#region-name")
            await asyncio.sleep(0.5)  # let the last frame settle before the picture
            await save_screenshot(page, SCREENSHOT.name)  # quantised, so the committed PNG stays small
        finally:
            await browser.close()

    assert not errors, errors
    hosts = {urlsplit(u).netloc for u in requests if urlsplit(u).scheme in ("http", "https", "ws", "wss")}
    assert hosts == {urlsplit(server.base).netloc}, f"requests went elsewhere: {hosts}\n{log_tail(server.proc)}"
    assert tile_auth and all(a and a.startswith("Bearer ") for a in tile_auth)
    assert SCREENSHOT.stat().st_size > 30_000
