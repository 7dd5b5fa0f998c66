"""The wall display (/screen) in headless Chromium against a real server, database and Redis with the demo city:
an alert appears within a second with its alarm, an order's every change shows, a street's screen shows its
street only, what a resident typed stays text, nothing is fetched from another host, and the screenshots at
1920×1080 and 3840×2160 are laid out without overlaps."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page
from redis import Redis as SyncRedis

from command.core.settings import Settings
from tests.browser_kit import XSS, App, foreign_requests, open_page, save_screenshot
from tests.procs import free_port

PORT = free_port()  # chosen by the kernel: two suites can run on one machine


async def _live_screen(browser: Browser, app: App, *, username: str = "operator", width: int = 1920,
                       height: int = 1080, path: str = "/screen") -> Page:
    page = await open_page(browser, app, path, username=username, width=width, height=height)
    # A 4K canvas rendered in software on a busy test machine takes a while.
    await page.wait_for_function("() => window.gridcmd.screen && window.gridcmd.screen.ready", timeout=60000)
    await page.wait_for_selector("#live-state[data-state=live]", timeout=20000)
    return page


@pytest.fixture(scope="module")
async def wall(app: App, browser: Browser) -> AsyncIterator[Page]:
    """One operator's wall display, open for the whole module as a real one is all day."""
    page = await _live_screen(browser, app)
    yield page
    await page.context.close()


def _row(incident_id: int, status: str | None = None) -> str:
    return f'#alarm-list li[data-id="{incident_id}"]' + (f'[data-status="{status}"]' if status else "")


async def test_an_alert_reaches_the_open_wall_within_a_second_with_its_alarm(app: App, wall: Page) -> None:
    page = wall
    await page.click("#sound-enable")  # the user gesture a browser needs before it plays sound
    await page.wait_for_selector("#sound-enable", state="hidden")
    before = await page.evaluate("() => ({...window.gridcmd.alarm})")
    lon, lat = await app.point_in("320102003001")

    # The page notes (its clock, the machine's) when each row first appears.
    await page.evaluate("""() => { window.__seen = {}; new MutationObserver(() => {
        for (const li of document.querySelectorAll('#alarm-list li')) window.__seen[li.dataset.id] ??= Date.now();
      }).observe(document.querySelector('#alarm-list'), { childList: true }); }""")
    posted = time.time()
    created = await app.alert(category="fire", description="和平街道居民楼冒烟", lon=lon, lat=lat)
    acknowledged = time.time()
    await page.wait_for_selector(_row(created["id"]), timeout=3000)
    seen = await page.evaluate(f"() => window.__seen[{created['id']}]") / 1000

    # Within a second of the API's 201 (the alert is committed then); the whole round trip is reported too.
    print(f"alert → wall: {seen - acknowledged:.3f} s after the 201, {seen - posted:.3f} s after the POST began")
    assert seen - acknowledged < 1.0
    after = await page.evaluate("() => ({...window.gridcmd.alarm})")
    assert after["raised"] == before["raised"] + 1
    assert after["played"] == before["played"] + 1  # the tones started on a running AudioContext
    assert await page.locator(_row(created["id"]) + ".fresh").count() == 1
    assert await page.locator(f'.alarm-pulse[data-incident-id="{created["id"]}"]').count() == 1
    assert await page.text_content("#alarm-pending") == "1"

    await page.click("#alarm-ack")
    assert await page.is_disabled("#alarm-ack")
    assert await page.locator(".alarm-pulse").count() == 0
    assert await page.locator(_row(created["id"]) + ".fresh").count() == 0
    assert (await page.evaluate("() => window.gridcmd.alarm.acknowledged")) == after["acknowledged"] + 1
    assert foreign_requests(page, app.base) == [] and page.errors == []  # type: ignore[attr-defined]


async def test_the_wall_shows_each_change_of_an_order(app: App, wall: Page) -> None:
    page = wall
    # A service request in a worker's own grid, with the worker at home and on duty: the order is theirs.
    [(username, worker_id, lon, lat)] = await app.workers_in("320102004", 1)
    await app.place(username, lon, lat)
    created = await app.alert(category="health", description="独居老人头晕，需要上门查看", lon=lon, lat=lat)
    [order] = created["orders"]
    assert order["worker_id"] == worker_id
    row = _row(created["id"])
    await page.wait_for_selector(_row(created["id"], "dispatched"), timeout=2000)
    await page.wait_for_selector(row + ' .order-note[data-order-status="sent"]', timeout=2000)

    r = await app.call("POST", f"/api/v1/orders/{order['id']}/accept", username)
    assert r.status_code == 200, r.text
    await page.wait_for_selector(_row(created["id"], "in_progress"), timeout=2000)
    await page.wait_for_selector(row + ' .order-note[data-order-status="accepted"]', timeout=2000)
    assert await page.text_content(row + " .chip") == "处置中"
    assert await page.text_content(row + " .order-note") == "网格员 已接单 · "

    r = await app.call("POST", f"/api/v1/orders/{order['id']}/resolve", username, json={"note": "已上门，送医"})
    assert r.status_code == 200, r.text
    await page.wait_for_selector(_row(created["id"], "resolved"), timeout=2000)
    await page.wait_for_selector(row + ' .order-note[data-order-status="done"]', timeout=2000)
    # The map's own copy: its dot turns "resolved" too.
    await page.wait_for_function(f"""() => window.gridcmd.map.querySourceFeatures("incidents")
        .some((f) => f.properties.id === {created['id']} && f.properties.status === "resolved")""", timeout=3000)
    # Today's figures follow (refetched a few seconds after the change).
    await page.wait_for_function("() => Number(document.querySelector('#kpi-resolved').textContent) >= 1",
                                 timeout=8000)
    assert foreign_requests(page, app.base) == [] and page.errors == []  # type: ignore[attr-defined]


async def test_a_street_screen_shows_its_street_only(app: App, browser: Browser) -> None:
    page = await _live_screen(browser, app, username="op-2")
    assert await page.text_content("#region-name") == "白云街道 · "
    (street_box,) = await app.sql("SELECT ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom) FROM regions "
                                  "WHERE code = '320102002'")
    centre = await page.evaluate("() => { const c = window.gridcmd.map.getCenter(); return [c.lng, c.lat]; }")
    assert street_box[0] < centre[0] < street_box[2] and street_box[1] < centre[1] < street_box[3]

    elsewhere = await app.alert(category="public_facilities", description="新华街道路灯不亮",
                                lon=(p := await app.point_in("320102005001"))[0], lat=p[1])
    inside = await app.alert(category="public_facilities", description="白云街道井盖缺失",
                             lon=(q := await app.point_in("320102002001"))[0], lat=q[1])
    await page.wait_for_selector(_row(inside["id"]), timeout=2000)
    # Events reach a socket in stream order: the earlier one, had it been in scope, would be there already.
    assert await page.locator(_row(elsewhere["id"])).count() == 0
    assert await page.evaluate(f"() => window.gridcmd.screen.store.get({elsewhere['id']})") is None
    await page.context.close()


async def test_what_a_resident_typed_is_shown_as_text(app: App, wall: Page) -> None:
    page = wall
    lon, lat = await app.point_in("320102001001")
    r = await app.http.post("/api/v1/public/requests", json={"category": "public_facilities", "description": XSS,
                                                            "lon": lon, "lat": lat, "phone": "13912345678"})
    assert r.status_code == 201, r.text
    ((incident_id,),) = await app.sql("SELECT id FROM incidents WHERE public_id = CAST(:p AS uuid)",
                                      p=r.json()["public_id"])
    await page.wait_for_selector(_row(incident_id), timeout=2000)
    assert await page.text_content(_row(incident_id) + " .desc") == XSS
    assert await page.evaluate("() => window.__xss") is None
    assert await page.locator('#alarm-list img, #alarm-list script').count() == 0
    assert foreign_requests(page, app.base) == []


async def test_a_dropped_socket_resumes_from_its_last_event(app: App, wall: Page) -> None:
    page = wall
    sockets: list[dict[str, list[str]]] = []

    def watch(ws: object) -> None:
        frames: dict[str, list[str]] = {"sent": [], "received": []}
        sockets.append(frames)
        ws.on("framesent", lambda payload: frames["sent"].append(str(payload)))  # type: ignore[attr-defined]
        ws.on("framereceived", lambda payload: frames["received"].append(str(payload)))  # type: ignore[attr-defined]

    page.on("websocket", watch)
    last = await page.evaluate("() => window.gridcmd.screen.socket.lastEventId")
    assert last  # the wall has seen events
    await page.evaluate("() => window.gridcmd.screen.socket.reconnect()")  # a network drop
    lon, lat = await app.point_in("320102006002")
    created = await app.alert(category="gas_leak", description="断线期间的燃气报警", lon=lon, lat=lat)
    await page.wait_for_selector(_row(created["id"]), timeout=10000)
    page.remove_listener("websocket", watch)
    # It came over the new connection, which subscribed from the last event the old one delivered.
    assert len(sockets) == 1
    subscribe = next(json.loads(f) for f in sockets[0]["sent"] if '"subscribe"' in f)
    assert subscribe["last_event_id"] == last
    assert any(f'"incident_id":{created["id"]}' in f.replace(" ", "") for f in sockets[0]["received"])


async def test_a_flushed_stream_resets_the_wall_and_it_refetches(app: App, wall: Page, settings: Settings) -> None:
    page = wall
    resets = await page.evaluate("() => window.gridcmd.screen.resets")
    await asyncio.to_thread(lambda: SyncRedis.from_url(settings.redis_url).flushdb())  # Redis lost everything
    lon, lat = await app.point_in("320102005004")
    created = await app.alert(category="flooding", description="Redis 清空之后的警情", lon=lon, lat=lat)
    await page.wait_for_function(f"() => window.gridcmd.screen.resets > {resets}", timeout=20000)
    await page.wait_for_selector(_row(created["id"]), timeout=10000)
    assert page.errors == []  # type: ignore[attr-defined]


async def test_the_hotspot_switch_shows_this_months_incidents_by_grid(app: App, wall: Page) -> None:
    page = wall
    for code in ("320102004001", "320102004001", "320102002003"):
        lon, lat = await app.point_in(code)
        await app.alert(category="public_facilities", description="热力图用的警情", lon=lon, lat=lat)
    toggle = page.locator("#res-toggles [data-kind=heat]")
    assert await toggle.get_attribute("aria-pressed") == "false"  # off until an operator turns it on
    assert await page.evaluate("() => window.gridcmd.map.getLayoutProperty('heat', 'visibility')") == "none"
    await toggle.click()
    count = "() => window.gridcmd.map.querySourceFeatures('heat').reduce((n, f) => n + f.properties.count, 0)"
    await page.wait_for_function(f"() => ({count})() > 0", timeout=10000)
    assert await page.evaluate("() => window.gridcmd.map.getLayoutProperty('heat', 'visibility')") == "visible"
    # The same figures as the supervisor's hotspot API for this month, grid by grid.
    day = await page.evaluate("() => new Intl.DateTimeFormat('en-CA', {timeZone: "
                              "document.querySelector('meta[name=timezone]').content}).format(new Date())")
    r = await app.call("GET", f"/api/v1/hotspots/grids?date={day}&period=month", "operator")
    assert r.status_code == 200, r.text
    expected = {g["code"]: g["count"] for g in r.json()["grids"]}
    assert sum(expected.values()) >= 3 and len(expected) >= 2  # the three above, in two grids at least
    shown = await page.evaluate("() => Object.fromEntries(window.gridcmd.heat.grids.map((g) => [g.code, g.count]))")
    assert shown == expected
    await save_screenshot(page, "wall-hotspots.png")
    await toggle.click()  # off again, and remembered so: the other tests' wall stays as it was
    assert await page.evaluate("() => window.gridcmd.map.getLayoutProperty('heat', 'visibility')") == "none"
    assert await page.evaluate("() => localStorage.getItem('gridcmd.screen.heat')") == "0"
    assert page.errors == []  # type: ignore[attr-defined]


async def test_english_by_the_switch_and_it_stays(app: App, browser: Browser) -> None:
    page = await _live_screen(browser, app)
    assert await page.text_content(".panel-alarms h2") == "实时警情 " + await page.text_content("#alarm-count")
    await page.click(".screen-bar .lang-switch")
    await page.wait_for_function("() => document.documentElement.lang === 'en'")
    await page.wait_for_selector("#live-state[data-state=live]", timeout=20000)
    await page.wait_for_function("() => document.querySelectorAll('#alarm-list li').length > 0", timeout=20000)
    assert (await page.text_content(".panel-alarms h2")).startswith("Live alarms")
    assert await page.text_content(".kpi-received .kpi-label") == "Received today"
    chips = await page.locator("#alarm-list .chip").all_text_contents()
    assert chips and all(c.isascii() for c in chips), chips  # status labels from the English catalogue
    await page.goto(app.base + "/console")  # the choice is remembered (cookie), on every page
    await page.wait_for_function("() => window.gridcmd.console && window.gridcmd.console.ready", timeout=60000)
    assert await page.text_content(".console-bar h1") == (await page.text_content("#region-name")) + "Operator console"
    assert foreign_requests(page, app.base) == [] and page.errors == []  # type: ignore[attr-defined]
    await page.context.close()


async def _layout_problems(page: Page) -> list[str]:
    """Panels that overlap each other or leave the viewport, and text cut off in the KPI tiles."""
    return await page.evaluate("""() => {
      const out = [];
      const boxes = [...document.querySelectorAll('.screen-bar, .panel, .kpi, .map-wrap, .map-strip')]
        .map((el) => [el, el.getBoundingClientRect()]);
      for (const [el, r] of boxes) {
        if (r.right > innerWidth + 1 || r.bottom > innerHeight + 1 || r.width < 10 || r.height < 10) {
          out.push('outside or empty: ' + el.className);
        }
      }
      for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
        const [a, ra] = boxes[i], [b, rb] = boxes[j];
        if (a.contains(b) || b.contains(a)) continue;
        if (ra.left < rb.right - 1 && rb.left < ra.right - 1 && ra.top < rb.bottom - 1 && rb.top < ra.bottom - 1) {
          out.push('overlap: ' + a.className + ' / ' + b.className);
        }
      }
      for (const el of document.querySelectorAll('.kpi-value, .kpi-label, .panel h2')) {
        if (el.scrollWidth > el.clientWidth + 1) out.push('cut off: ' + el.textContent);
      }
      const canvas = window.gridcmd.map.getCanvas().getBoundingClientRect();
      const wrap = document.querySelector('.map-wrap');  // inside its border
      if (Math.abs(canvas.width - wrap.clientWidth) > 1 || Math.abs(canvas.height - wrap.clientHeight) > 1) {
        out.push(`map ${canvas.width}x${canvas.height} not filling its frame ${wrap.clientWidth}x${wrap.clientHeight}`);
      }
      return out;
    }""")


async def _busy_city(app: App) -> None:
    """A believable moment: workers out in every street, alerts of several kinds, some taken and done."""
    alerts = [
        ("320102001002", "fire", "小区配电房冒烟，有焦糊味"),
        ("320102002003", "flooding", "地下车库入口积水约30厘米"),
        ("320102003002", "dispute_mediation", "邻里噪音纠纷，双方争执"),
        ("320102004003", "elderly_care", "独居老人两天未出门，电话无人接"),
        ("320102005002", "public_facilities", "路灯成片不亮"),
        ("320102006001", "gas_leak", "餐馆后厨燃气味浓"),
        ("320102001004", "civilized_city", "垃圾桶满溢无人清运"),
        ("320102002001", "water_main_burst", "主路水管爆裂，路面冒水"),
        ("320102006003", "health", "居民发热咨询就近门诊"),
        ("320102003004", "road_collapse", "人行道塌陷一处"),
    ]
    for street in ("320102001", "320102002", "320102003", "320102004", "320102005", "320102006"):
        for n, (username, *_) in enumerate(await app.workers_in(street, 5)):
            code = f"{street}{(n % 5) + 1:03d}"
            lon, lat = await app.point_in(code)
            await app.place(username, lon + 0.002 * ((n % 3) - 1), lat + 0.0015 * ((n % 4) - 1.5))
    for code, category, text in alerts:
        lon, lat = await app.point_in(code)
        created = await app.alert(category=category, description=text, lon=lon, lat=lat)
        for order in created["orders"][:1]:
            if order["worker_id"] and category in ("flooding", "health", "civilized_city", "public_facilities"):
                (username,) = (await app.sql("SELECT u.username FROM workers w JOIN users u ON u.id = w.user_id "
                                             "WHERE w.id = :w", w=order["worker_id"]))[0]
                await app.call("POST", f"/api/v1/orders/{order['id']}/accept", username)
                if category in ("health", "civilized_city"):
                    await app.call("POST", f"/api/v1/orders/{order['id']}/resolve", username, json={"note": "已处理"})


async def test_screenshots_at_1080p_and_4k_are_laid_out_cleanly(app: App, browser: Browser) -> None:
    await _busy_city(app)
    for width, height in ((1920, 1080), (3840, 2160)):
        page = await _live_screen(browser, app, width=width, height=height)
        await page.wait_for_function("() => document.querySelectorAll('#alarm-list li').length >= 5", timeout=10000)
        await page.wait_for_function("() => Number(document.querySelector('#kpi-received').textContent) >= 10",
                                     timeout=10000)
        await page.wait_for_function("() => window.gridcmd.map.loaded()", timeout=60000)
        await page.wait_for_timeout(600)  # the last tiles and chart frames
        assert await _layout_problems(page) == []
        path = await save_screenshot(page, f"screen-{width}x{height}.png")
        assert path.stat().st_size < 2_500_000
        assert foreign_requests(page, app.base) == [] and page.errors == []  # type: ignore[attr-defined]
        await page.context.close()
