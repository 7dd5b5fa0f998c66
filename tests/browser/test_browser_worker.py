"""The worker app /m in Chromium (390×844, geolocation granted) against a real server with the demo city:
an order pushed after the worker's position is reported, accepted, arrived, resolved with a photo; an action
taken offline sent once when back online; a resolution whose response is lost applied once; a patrol finding;
the installable shell working offline; and nothing ever requested from another host."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from geo.coords import from_wgs84
from tests.browser_kit import (
    NO_WORKER,
    NO_WORKER_ZH,
    PHONE,
    XSS,
    Pages,
    Served,
    api,
    finish,
    pages,
    png,
    shot,
    sql,
    start,
    system_reason,
    token,
    until,
    watch_errors,
    worker_home,
)
from tests.procs import free_port

pytestmark = pytest.mark.timeout(120)
PORT = free_port()  # chosen by the kernel: two suites can run on one machine
WORKER = "w0001"


@pytest.fixture(scope="module")
async def served(demo_db) -> AsyncIterator[Served]:
    s = await start(PORT)
    yield s
    finish(s)


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Pages]:
    async for p in pages():
        yield p


async def sign_in_on_duty(browser: Pages, served: Served, engine, *, shots: bool = False):
    wid, lon, lat = await worker_home(engine, WORKER)
    ctx, rec = await browser.context(viewport=PHONE, geo=(lon, lat))
    page = await ctx.new_page()
    errors = watch_errors(page)
    await page.goto(served.base + "/m")
    if shots:
        await shot(page, "m-signin")
    await page.fill("#m-username", WORKER)
    await page.fill("#m-password", "demo1234")
    await page.click("#signin-submit")
    await page.wait_for_selector("#duty")
    await page.click("#duty")  # 上岗: the position goes out over the socket (or a batch POST)
    op = await token(served.base, "operator")

    async def present() -> bool:
        items = (await api(served.base, "GET", "/api/v1/workers", op)).json()["items"]
        return any(w["id"] == wid and w["present"] and w["lon"] is not None for w in items)

    try:
        await until(present, what="the worker's position on the server", served=served)
    except AssertionError as exc:  # say what the phone thought, for a failure under load
        raise AssertionError(f"{exc}\nphone: gps={await page.inner_text('#gps')!r} "
                             f"net={await page.inner_text('#net')!r} errors={errors}") from None
    return ctx, rec, page, errors, op, (wid, lon, lat)


async def alert_near(served: Served, op: dict, lon: float, lat: float, description: str,
                     category: str = "health") -> dict:
    r = await api(served.base, "POST", "/api/v1/alerts", op, json={
        "category": category, "description": description, "lon": lon + 0.0003, "lat": lat + 0.0002,
        "channel": "hotline"})
    assert r.status_code == 201, r.text
    return r.json()


async def order_status(engine, order_id: int) -> str:
    return (await sql(engine, "SELECT status FROM orders WHERE id = :i", i=order_id))[0][0]


async def events_of(engine, order_id: int, kind: str) -> list:
    return await sql(engine, "SELECT id, payload FROM events WHERE order_id = :i AND kind = :k", i=order_id, k=kind)


async def test_worker_receives_accepts_arrives_and_resolves_with_a_photo(served, browser, engine) -> None:
    ctx, rec, page, errors, op, (wid, lon, lat) = await sign_in_on_duty(browser, served, engine, shots=True)
    incident = await alert_near(served, op, lon, lat, "老人在楼道摔倒，需要协助 " + XSS)
    (order,) = [o for o in incident["orders"] if o["worker_id"] == wid]
    oid = order["id"]
    await system_reason(engine, incident["id"], NO_WORKER)

    sheet = page.locator("#incoming")
    await sheet.wait_for(state="visible", timeout=5000)
    assert XSS in await sheet.inner_text()  # the payload is shown as text…
    assert await page.evaluate("window.__xss") is None  # …and nothing in it ran
    assert await page.locator("img[src='x']").count() == 0
    await shot(page, "m-incoming")

    await page.click("#incoming-accept")
    await until(lambda: _is(engine, oid, "accepted"), what="order accepted", served=served)
    await page.wait_for_selector("#arrive")
    amap = await page.get_attribute("[data-app=amap]", "href")
    glon, glat = from_wgs84(incident["lon"], incident["lat"], "gcj02")
    assert f"dlat={glat:.6f}&dlon={glon:.6f}" in amap and "dev=0" in amap  # AMap gets GCJ-02
    baidu = await page.get_attribute("[data-app=baidu]", "href")
    blon, blat = from_wgs84(incident["lon"], incident["lat"], "bd09")
    assert f"latlng:{blat:.6f},{blon:.6f}" in baidu and "coord_type=bd09ll" in baidu
    assert (await page.get_attribute("[data-app=geo]", "href")).startswith(f"geo:{incident['lat']:.6f},")

    # The order's timeline: a system reason reads in Chinese by its code, the detail after it kept.
    timeline = page.locator(".timeline")
    await until(lambda: _has_text(timeline, NO_WORKER_ZH), what="the translated reason", served=served)
    assert "no_worker" not in await timeline.inner_text()

    await page.click("#arrive")
    await until(lambda: events_of(engine, oid, "order.arrived"), what="arrival recorded", served=served)
    await page.fill("#resolve-form textarea", "已送医，家属已到场")
    await page.set_input_files("#resolve-form input[type=file]",
                               files=[{"name": "scene.png", "mimeType": "image/png", "buffer": png(640, 480)}])
    await page.locator("#resolve-form .photo-thumb img").wait_for()
    await page.evaluate("document.querySelector('.arrived-banner').scrollIntoView({block: 'start'})")
    await shot(page, "m-order")
    await page.click("#resolve")
    await until(lambda: _is(engine, oid, "done"), what="order done", served=served)

    (inc_status,) = (await sql(engine, "SELECT status FROM incidents WHERE id = :i", i=incident["id"]))[0]
    assert inc_status == "resolved"
    (note,) = await events_of(engine, oid, "order.progress")  # the photo went first, as a note
    (photo_id,) = note[1]["photos"]
    (kind, size), = await sql(engine, "SELECT content_type, size FROM uploads WHERE id = :i", i=photo_id)
    assert kind == "image/jpeg" and 0 < size < 1024 * 1024  # shrunk and re-encoded on the phone
    assert rec.count("POST", f"/orders/{oid}/resolve", 200) == 1
    assert len(await events_of(engine, oid, "order.done")) == 1
    rec.assert_own_origin(served.base)
    assert errors == []
    await ctx.close()


async def _has_text(locator, text: str) -> bool:
    return await locator.count() > 0 and text in await locator.first.inner_text()


async def _is(engine, order_id: int, status: str) -> bool:
    return await order_status(engine, order_id) == status


async def test_offline_accept_once_lost_response_once_decline_and_patrol_finding(served, browser, engine) -> None:
    ctx, rec, page, errors, op, (wid, lon, lat) = await sign_in_on_duty(browser, served, engine)
    incident = await alert_near(served, op, lon, lat, "路边井盖缺失")
    (oid,) = [o["id"] for o in incident["orders"] if o["worker_id"] == wid]
    await page.locator("#incoming").wait_for(state="visible", timeout=5000)
    await page.click("#incoming >> text=稍后处理")
    await page.locator(f"[data-order='{oid}']").wait_for()
    await shot(page, "m-orders")

    await ctx.set_offline(True)
    await page.click(f"[data-order='{oid}'] .btn-go")  # 接单, with no network
    net = page.locator("#net")
    await until(lambda: _has(net, "1 项待发送"), what="the accept waiting in the outbox")
    assert await net.get_attribute("data-state") == "offline"
    await page.wait_for_timeout(1500)  # retries fail meanwhile…
    assert await order_status(engine, oid) == "sent"  # …and nothing reached the server
    await ctx.set_offline(False)
    await until(lambda: _is(engine, oid, "accepted"), what="accepted once back online", served=served)
    await until(lambda: _lacks(net, "待发送"), what="the outbox emptied")
    assert len(await events_of(engine, oid, "order.accepted")) == 1
    assert rec.count("POST", f"/orders/{oid}/accept", 200) == 1

    # The resolution reaches the server but its answer is lost: the phone retries with the same key.
    lost: list[int] = []
    replayed: list[str] = []

    async def lose_first_answer(route) -> None:
        if not lost:
            response = await route.fetch()
            lost.append(response.status)
            await route.abort("connectionreset")
        else:
            await route.continue_()

    await page.route(f"**/api/v1/orders/{oid}/resolve", lose_first_answer)
    page.on("response", lambda r: replayed.append(r.headers.get("idempotent-replayed", ""))
            if r.url.endswith(f"/orders/{oid}/resolve") else None)
    await page.locator("#resolve-form textarea").fill("已盖好临时井盖")
    await page.click("#resolve")
    await until(lambda: _async(replayed), within=15, what="the retried resolution answered")
    assert lost == [200] and replayed == ["true"]
    assert len(await events_of(engine, oid, "order.done")) == 1
    keys = await sql(engine, "SELECT count(*) FROM request_keys WHERE request = :r",
                     r=f"POST /api/v1/orders/{oid}/resolve")
    assert keys[0][0] == 1
    await until(lambda: _lacks(net, "待发送"), what="the outbox emptied")

    # A decline, from the sheet, with one of the ready-made reasons.
    other = await alert_near(served, op, lon, lat, "楼道堆放杂物")
    (did,) = [o["id"] for o in other["orders"] if o["worker_id"] == wid]
    await page.locator("#incoming").wait_for(state="visible", timeout=5000)
    await page.click("#incoming >> text=拒单")
    await page.click("#decline-form .chip >> nth=0")
    await page.click("#decline-form button[type=submit]")
    await until(lambda: _is(engine, did, "declined"), what="declined", served=served)
    assert await sql(engine, "SELECT reason FROM events WHERE order_id = :i AND kind = 'order.declined'",
                     i=did) == [("正在处理其他事件",)]

    # 巡查发现上报 with a photo, through the same outbox.
    await page.click("#tab-report")
    await page.select_option("#report-category", "public_facilities")
    await page.fill("#report-description", "小区东门路灯不亮 " + XSS)
    await page.set_input_files("#report-form input[type=file]",
                               files=[{"name": "lamp.png", "mimeType": "image/png", "buffer": png(320, 240)}])
    await page.locator("#report-form .photo-thumb img").wait_for()
    await shot(page, "m-report")
    await page.click("#report-send")

    async def finding() -> list:
        return await sql(engine, "SELECT i.id, e.payload FROM incidents i JOIN events e ON e.incident_id = i.id "
                                 "AND e.kind = 'incident.photos' WHERE i.channel = 'patrol' "
                                 "AND i.description LIKE '小区东门路灯不亮%'")
    (row,) = await until(finding, what="the patrol finding with its photo", served=served)
    assert len(row[1]["photos"]) == 1
    assert await page.evaluate("window.__xss") is None
    rec.assert_own_origin(served.base)
    assert errors == []
    await ctx.close()


async def _has(locator, text: str) -> bool:
    return text in (await locator.inner_text())


async def _lacks(locator, text: str) -> bool:
    return text not in (await locator.inner_text())


async def _async(value: list) -> bool:
    return bool(value)


async def test_installable_shell_opens_offline(served, browser) -> None:
    ctx, rec = await browser.context(viewport=PHONE)
    page = await ctx.new_page()
    errors = watch_errors(page)
    await page.goto(served.base + "/m")
    manifest = json.loads(await (await page.request.get(served.base + "/m/manifest.webmanifest")).text())
    assert manifest["start_url"] == "/m" and manifest["display"] == "standalone"
    for icon in manifest["icons"]:
        got = await page.request.get(served.base + icon["src"])
        assert got.ok, icon
    scope = await page.evaluate("navigator.serviceWorker.ready.then(r => r.scope)")
    assert scope == served.base + "/m"
    await page.reload()
    assert await page.evaluate("!!navigator.serviceWorker.controller")
    await ctx.set_offline(True)
    await page.reload()  # from the service worker's cache
    await page.locator("#signin-form").wait_for(state="visible")
    assert "网格员" in await page.title()
    # The navigation hand-off converts like the server's geo.coords (gcoord, vendored).
    got = await page.evaluate("import('/static/m/nav.js').then(m => [m.toCrs(118.7722, 32.0573, 'gcj02'),"
                              " m.toCrs(118.7722, 32.0573, 'bd09')])")
    for (x, y), crs in zip(got, ("gcj02", "bd09"), strict=True):
        ex, ey = from_wgs84(118.7722, 32.0573, crs)
        assert abs(x - ex) < 1e-6 and abs(y - ey) < 1e-6, crs
    rec.assert_own_origin(served.base)
    assert errors == []
    await ctx.close()
