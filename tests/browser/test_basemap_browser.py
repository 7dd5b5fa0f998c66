"""The wall display's map style with the 天地图 preset, in headless Chromium: the vector layer under the regions, the
annotation layer above them, both from the eight 天地图 hosts with the key; the page asks no other host (the tiles
themselves fail here: the test machine has no Internet, and the page must keep working without them)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from playwright.async_api import Browser
from sqlalchemy.ext.asyncio import AsyncEngine

from command.core.settings import Settings
from tests.browser_kit import App, finish, foreign, open_page, start
from tests.procs import free_port

PORT = free_port()
TK = "0123456789abcdef0123456789abcdef"


@pytest.fixture(scope="module")
async def tianditu_app(demo_db: AsyncEngine, settings: Settings) -> AsyncIterator[App]:
    served = await start(PORT, settings, jobs=False, GRIDCMD_BASEMAP_PRESET="tianditu", GRIDCMD_TIANDITU_TK=TK)
    try:
        async with httpx.AsyncClient(base_url=served.base, timeout=20) as http:
            yield App(base=served.base, http=http, engine=demo_db)
    finally:
        finish(served)


@pytest.mark.timeout(120)
async def test_the_wall_draws_the_tianditu_preset(tianditu_app: App, browser: Browser) -> None:
    page = await open_page(browser, tianditu_app, "/screen", username="operator")
    try:
        await page.wait_for_function("() => window.gridcmd.screen && window.gridcmd.screen.ready", timeout=60000)
        style = await page.evaluate("""() => { const s = window.gridcmd.map.getStyle();
            return { ids: s.layers.map(l => l.id), vec: s.sources['tianditu-vec'].tiles,
                     cva: s.sources['tianditu-cva'].tiles }; }""")
        ids = style["ids"]
        assert ids.index("tianditu-vec") < ids.index("district-fill") < ids.index("tianditu-cva")
        assert len(style["vec"]) == 8 and all(f"tk={TK}" in u and "/vec_w/wmts?" in u for u in style["vec"])
        assert all("/cva_w/wmts?" in u for u in style["cva"])
        hosts = {u.split("/")[2] for u in foreign(page.requested, tianditu_app.base)}  # type: ignore[attr-defined]
        assert hosts <= {f"t{i}.tianditu.gov.cn" for i in range(8)}, hosts
        assert not [e for e in page.errors if "tianditu" not in e]  # type: ignore[attr-defined]
    finally:
        await page.context.close()
