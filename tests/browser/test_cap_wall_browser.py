"""A CAP alert on the wall display (/screen) in headless Chromium with the demo city: its area is drawn as a shape
under the incident's dot and its alarm row appears; an Exercise message over the same area adds neither."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser

from tests.browser_kit import App, open_page, save_screenshot, until
from tests.procs import free_port

PORT = free_port()
XML = {"content-type": "application/cap+xml"}


def _cap(identifier: str, status: str, ring: list[tuple[float, float]]) -> bytes:
    polygon = " ".join(f"{lat:.6f},{lon:.6f}" for lon, lat in ring)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>{identifier}</identifier><sender>qxj@example.gov.cn</sender>
  <sent>2026-12-07T08:00:00+08:00</sent><status>{status}</status><msgType>Alert</msgType><scope>Public</scope>
  <info><language>zh-CN</language><category>Met</category><event>暴雨</event><urgency>Immediate</urgency>
    <severity>Severe</severity><certainty>Likely</certainty><headline>暴雨橙色预警</headline>
    <description>预计3小时内降雨量将达50毫米以上。</description>
    <area><areaDesc>低洼片区</areaDesc><polygon>{polygon}</polygon></area></info>
</alert>""".encode()


async def _post(app: App, xml: bytes):
    return await app.http.post("/api/v1/cap", content=xml, headers=await app.headers("operator") | XML)


@pytest.mark.timeout(180)
async def test_a_cap_area_is_a_shape_on_the_wall(app: App, browser: Browser) -> None:
    r = await app.call("PUT", "/api/v1/admin/cap-categories/event/暴雨", "admin", json={"category_code": "fire"})
    assert r.status_code == 200, r.text
    lon, lat = await app.point_in("320102003001")
    d = 0.006
    ring = [(lon - d, lat - d), (lon + d, lat - d), (lon + d * 1.4, lat + d), (lon - d, lat + d), (lon - d, lat - d)]
    page = await open_page(browser, app, "/screen", username="operator")
    try:
        await page.wait_for_function("() => window.gridcmd.screen && window.gridcmd.screen.ready", timeout=60000)
        posted = await _post(app, _cap("wall-1", "Actual", ring))
        assert posted.status_code == 201, posted.text
        (iid,) = posted.json()["incident_ids"]
        await page.wait_for_selector(f'#alarm-list li[data-id="{iid}"]', timeout=5000)
        shapes = "() => window.gridcmd.map.querySourceFeatures('areas').map(f => f.properties.id)"
        await until(lambda: page.evaluate(f"() => ({shapes})().length > 0"), within=10, what="the area on the map")
        assert set(await page.evaluate(shapes)) == {iid}
        exercise = await _post(app, _cap("wall-2", "Exercise", ring))
        assert exercise.status_code == 201 and exercise.json()["incident_ids"] == []
        await page.wait_for_timeout(1500)
        assert await page.locator("#alarm-list li").count() == 1
        await page.evaluate(f"() => window.gridcmd.map.flyTo({{center: [{lon}, {lat}], zoom: 14, duration: 0}})")
        await page.wait_for_timeout(1500)
        await save_screenshot(page, "wall-cap-area.png")
    finally:
        await page.context.close()
