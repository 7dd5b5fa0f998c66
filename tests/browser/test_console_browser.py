"""The operator console (/console) in headless Chromium against a real server, database and Redis with the demo
city: a hotline call becomes an incident by a click on the map, the candidates show with their distance, the
operator sends another worker, and checks and closes the incident once it is resolved; typed coordinates in
GCJ-02 land where they should; an incomplete form sends nothing; what a resident typed stays text; no request
leaves the app; the screenshot is laid out cleanly."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Browser, Page

from geo.coords import from_wgs84
from tests.browser_kit import XSS, App, foreign_requests, open_page, save_screenshot
from tests.procs import free_port

PORT = free_port()  # chosen by the kernel: two suites can run on one machine


@pytest.fixture(scope="module")
async def console(app: App, browser: Browser) -> AsyncIterator[Page]:
    """The district operator's console, open for the whole module."""
    page = await open_page(browser, app, "/console")
    await page.wait_for_function("() => window.gridcmd.console && window.gridcmd.console.ready", timeout=60000)
    await page.wait_for_selector("#live-state[data-state=live]", timeout=20000)
    yield page
    assert foreign_requests(page, app.base) == []
    assert page.errors == []  # type: ignore[attr-defined]
    await page.context.close()


async def _click_map_at(page: Page, lon: float, lat: float) -> None:
    """Zoom in on the place (as an operator does to pick a doorway), then click it."""
    await page.evaluate("([lon, lat]) => window.gridcmd.map.jumpTo({ center: [lon, lat], zoom: 16 })", [lon, lat])
    x, y = await page.evaluate("""([lon, lat]) => {
        const map = window.gridcmd.map, p = map.project([lon, lat]), r = map.getCanvas().getBoundingClientRect();
        return [r.left + p.x, r.top + p.y]; }""", [lon, lat])
    await page.mouse.click(x, y)


async def _incident_count(app: App) -> int:
    ((n,),) = await app.sql("SELECT count(*) FROM incidents")
    return int(n)


async def test_a_hotline_call_picked_on_the_map_is_dispatched_overridden_checked_and_closed(
        app: App, console: Page) -> None:
    page = console
    # Three workers of one street on duty: the one whose grid it is at home, two others close by.
    (own, own_id, lon, lat), (other, other_id, *_), (third, _, *_) = await app.workers_in("320102001", 3)
    await app.place(own, lon, lat)
    await app.place(other, lon + 0.002, lat)
    await app.place(third, lon, lat + 0.003)

    await page.click("#new-call")
    await page.select_option("#cf-category", "health")
    await page.fill("#cf-description", "来电：老人在家摔倒，行动不便")
    await page.fill("#cf-name", "王先生")
    await page.fill("#cf-phone", "13800001111")
    await _click_map_at(page, lon, lat)
    await page.wait_for_function("() => document.querySelector('#cf-located').textContent.includes('城关街道')")
    assert abs(float(await page.input_value("#cf-lon")) - lon) < 2e-5  # a pixel at zoom 16 is ~2 m
    assert abs(float(await page.input_value("#cf-lat")) - lat) < 2e-5
    await page.click("#cf-submit")

    await page.wait_for_selector("#detail .title", timeout=10000)
    incident_id = int((await page.text_content("#detail .title")).split()[0].lstrip("#"))
    assert await page.locator(f'#incident-list li[data-id="{incident_id}"]').count() == 1
    ((channel, status),) = await app.sql("SELECT channel, status FROM incidents WHERE id = :i", i=incident_id)
    assert (channel, status) == ("hotline", "dispatched")
    # The caller, for a call-back: name and a dialable number.
    assert "王先生" in await page.text_content("#detail-reporter")
    assert await page.get_attribute("#reporter-phone", "href") == "tel:13800001111"

    # The candidates, nearest first, with their distance: the own-grid worker holds it, the others can go.
    await page.wait_for_selector("#candidates", timeout=10000)
    assert "已派" in await page.text_content(f'#candidates tr[data-worker-id="{own_id}"]')
    assert await page.is_enabled(f'#candidates button[data-dispatch="{other_id}"]')
    distance = await page.text_content(f'#candidates tr[data-worker-id="{other_id}"] td.num')
    assert distance.endswith("米") and 150 <= int(distance.split()[0]) <= 250  # 0.002° of longitude away
    await page.click(f'#candidates button[data-dispatch="{other_id}"]')
    await page.wait_for_function("() => document.querySelectorAll('#orders tr').length === 2", timeout=10000)

    orders = await app.sql("SELECT o.id, u.username FROM orders o JOIN workers w ON w.id = o.worker_id "
                           "JOIN users u ON u.id = w.user_id WHERE o.incident_id = :i ORDER BY o.id", i=incident_id)
    assert [u for _, u in orders] == [own, other]

    # A redraw (every event of the incident brings one) keeps what is being typed, the focus and the caret.
    await page.click("#supervise-reason")
    await page.keyboard.type("老人")
    await page.evaluate("() => { document.querySelector('#detail .detail-head').dataset.old = '1';"
                        " window.gridcmd.console.detail.refreshSoon(); }")
    await page.wait_for_selector("#detail .detail-head:not([data-old])", timeout=10000)
    await page.keyboard.type("独居")
    assert await page.input_value("#supervise-reason") == "老人独居"
    await page.fill("#supervise-reason", "")

    # 督办: a reason is required (nothing sent without one); with it, the event shows in the timeline.
    await page.click("#act-supervise")
    assert await page.locator(".timeline .t-kind", has_text="督办").count() == 0
    await page.fill("#supervise-reason", "老人独居，请优先处置")
    await page.click("#act-supervise")
    await page.wait_for_function("() => [...document.querySelectorAll('.timeline li')].some((li) =>"
                                 " li.textContent.includes('督办') && li.textContent.includes('老人独居，请优先处置'))",
                                 timeout=10000)
    rows = await app.sql("SELECT actor, reason FROM events WHERE incident_id = :i AND kind = 'supervision.raised'",
                         i=incident_id)
    assert [tuple(r) for r in rows] == [("operator", "老人独居，请优先处置")]

    for order_id, username in orders:  # both go and report done (what their phones do)
        assert (await app.call("POST", f"/api/v1/orders/{order_id}/accept", username)).status_code == 200
        assert (await app.call("POST", f"/api/v1/orders/{order_id}/resolve", username,
                               json={"note": "已送医"})).status_code == 200

    # The console follows live: resolved → check (核查) → close (结案).
    await page.wait_for_selector("#act-verify", timeout=10000)
    await page.fill("#action-note", "电话回访确认已送医")
    await page.click("#act-verify")
    await page.wait_for_selector('#detail .detail-head .chip[data-status="verified"]', timeout=10000)
    await page.click("#act-close")
    await page.wait_for_selector('#detail .detail-head .chip[data-status="closed"]', timeout=10000)
    ((status,),) = await app.sql("SELECT status FROM incidents WHERE id = :i", i=incident_id)
    assert status == "closed"

    timeline = " ".join(await page.locator(".timeline .t-kind").all_text_contents())
    for step in ("事件受理", "派遣", "接单", "处置完成", "办结", "核查通过", "结案"):
        assert step in timeline
    assert "电话回访确认已送医" in (await page.text_content(".timeline"))


async def test_typed_gcj02_coordinates_are_stored_in_wgs84(app: App, console: Page) -> None:
    page = console
    lon, lat = await app.point_in("320102005003")
    glon, glat = from_wgs84(lon, lat, "gcj02")
    await page.click("#new-call")
    await page.select_option("#cf-category", "public_facilities")
    await page.fill("#cf-description", "高德地图上看到的位置：路灯不亮")
    await page.select_option("#cf-crs", "gcj02")
    await page.fill("#cf-lon", f"{glon:.6f}")
    await page.fill("#cf-lat", f"{glat:.6f}")
    await page.wait_for_function("() => document.querySelector('#cf-located').textContent.includes('新华街道')")
    before = await _incident_count(app)
    await page.click("#cf-submit")
    await page.wait_for_selector("#detail .title", timeout=10000)
    assert await _incident_count(app) == before + 1
    ((slon, slat),) = await app.sql("SELECT lon, lat FROM incidents ORDER BY id DESC LIMIT 1")
    assert abs(slon - lon) < 2e-6 and abs(slat - lat) < 2e-6  # GCJ-02 converted back, not stored as typed
    assert abs(slon - glon) > 1e-3  # (the two systems differ by hundreds of metres here)


async def test_an_incomplete_call_sends_nothing(app: App, console: Page) -> None:
    page = console
    before = await _incident_count(app)
    await page.click("#new-call")
    await page.select_option("#cf-category", "fire")
    await page.click("#cf-submit")  # no description, no place
    await page.wait_for_selector("#cf-error:not([hidden])")
    assert "事件描述" in await page.text_content("#cf-error") and "事发位置" in await page.text_content("#cf-error")
    await page.fill("#cf-description", "着火了")
    await page.fill("#cf-lon", "200")
    await page.fill("#cf-lat", "32.0")
    await page.click("#cf-submit")  # the server refuses the longitude; the form says so
    await page.wait_for_function("() => !document.querySelector('#cf-error').hidden && "
                                 "!document.querySelector('#cf-error').textContent.includes('请填写')")
    assert await _incident_count(app) == before
    await page.click("#cf-cancel")
    assert await page.locator("#create-form").is_hidden()


async def test_what_a_resident_typed_is_text_in_queue_and_detail(app: App, console: Page) -> None:
    page = console
    lon, lat = await app.point_in("320102006002")
    r = await app.http.post("/api/v1/public/requests", json={"category": "public_facilities", "description": XSS,
                                                            "lon": lon, "lat": lat})
    assert r.status_code == 201, r.text
    ((incident_id,),) = await app.sql("SELECT id FROM incidents WHERE public_id = CAST(:p AS uuid)",
                                      p=r.json()["public_id"])
    row = f'#incident-list li[data-id="{incident_id}"]'
    await page.wait_for_selector(row, timeout=5000)
    assert await page.text_content(row + " .desc") == XSS
    await page.click(row)
    await page.wait_for_selector("#detail-description", timeout=10000)
    assert await page.text_content("#detail-description") == XSS
    assert await page.evaluate("() => window.__xss") is None
    assert await page.locator("#incident-list img, #detail img, #detail script").count() == 0


async def test_times_are_in_the_configured_zone_whatever_the_browser(app: App, browser: Browser) -> None:
    """The server's zone (settings.timezone, Asia/Shanghai) on a browser set to New York (12-13 h behind)."""
    page = await open_page(browser, app, "/console", timezone_id="America/New_York")
    try:
        await page.wait_for_function("() => window.gridcmd.console && window.gridcmd.console.ready", timeout=60000)
        assert await page.get_attribute("meta[name=timezone]", "content") == "Asia/Shanghai"
        assert await page.evaluate("() => new Date(2026, 0, 1).getTimezoneOffset()") == 300  # the browser: UTC-5
        formatted = await page.evaluate("""() => import('/static/app/i18n.js').then((m) =>
            [m.fmtTime('2026-01-01T00:30:00Z'), m.fmtClock('2026-01-01T23:30:00Z')])""")
        assert formatted == ["01/01 08:30", "01/02 07:30"]  # Shanghai is UTC+8; New York would say 12/31 19:30
        # The clock ticks once a second, so what it shows may be up to a second older than the read.
        before = datetime.now(ZoneInfo("Asia/Shanghai")) - timedelta(seconds=2)
        shown = (await page.text_content("#clock"))[:5]
        after = datetime.now(ZoneInfo("Asia/Shanghai"))
        assert shown in {before.strftime("%H:%M"), after.strftime("%H:%M")}
        # An incident's time in the queue and its timeline: the same zone.
        created = await app.alert(category="flooding", description="时区检查", **dict(zip(
            ("lon", "lat"), await app.point_in("320102003002"), strict=True)))
        ((at,),) = await app.sql("SELECT created_at FROM incidents WHERE id = :i", i=created["id"])
        local = at.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%H:%M")
        await page.click(f'#incident-list li[data-id="{created["id"]}"]')
        await page.wait_for_selector("#detail .timeline .t-when", timeout=10000)
        assert (await page.locator("#detail .timeline .t-when").first.text_content()) == local
        assert page.errors == []  # type: ignore[attr-defined]
    finally:
        await page.context.close()


async def test_screenshot_is_laid_out_cleanly(app: App, console: Page) -> None:
    page = console
    # An open call with workers around, selected: the candidates and the timeline show.
    workers = await app.workers_in("320102003", 4)
    lon, lat = await app.point_in("320102003002")
    for n, (username, *_) in enumerate(workers):
        await app.place(username, lon + 0.0015 * n, lat - 0.001 * n)
    created = await app.alert(category="flooding", description="地下通道积水，有车辆熄火", lon=lon, lat=lat)
    await page.click(f'#incident-list li[data-id="{created["id"]}"]')
    await page.wait_for_selector("#candidates", timeout=10000)
    await page.click("#fit-region")  # back from the zoomed-in pick of the first test
    await page.wait_for_timeout(600)
    await page.wait_for_function("() => window.gridcmd.map.loaded()", timeout=30000)
    await page.wait_for_timeout(500)
    problems = await page.evaluate("""() => {
      const out = [];
      const parts = ['.console-bar', '.queues', '.console-map-wrap', '.side']
        .map((s) => [s, document.querySelector(s).getBoundingClientRect()]);
      for (const [s, r] of parts) if (r.right > innerWidth + 1 || r.bottom > innerHeight + 1) out.push('outside: ' + s);
      for (let i = 0; i < parts.length; i++) for (let j = i + 1; j < parts.length; j++) {
        const [a, ra] = parts[i], [b, rb] = parts[j];
        if (ra.left < rb.right - 1 && rb.left < ra.right - 1 && ra.top < rb.bottom - 1 && rb.top < ra.bottom - 1) {
          out.push('overlap: ' + a + ' / ' + b);
        }
      }
      const c = window.gridcmd.map.getCanvas().getBoundingClientRect();
      const w = document.querySelector('.console-map-wrap').getBoundingClientRect();
      if (Math.abs(c.width - w.width) > 1 || Math.abs(c.height - w.height) > 1) out.push('map not filling');
      return out;
    }""")
    assert problems == []
    path = await save_screenshot(page, "console-1920x1080.png")
    assert path.stat().st_size < 1_500_000
