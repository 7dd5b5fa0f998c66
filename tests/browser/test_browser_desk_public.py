"""The liaison console /dept (1440×900) and the resident pages /r and /r/t/… (390×844) in Chromium against a
real server with the demo city: a liaison signs for a work order, notes progress with a photo and asks for an
extension; a resident files a request with GPS and a photo, follows the tracking link and rates the result
once it is resolved. Typed HTML stays text; nothing comes from another host."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from tests.browser_kit import (
    DESK,
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
LIAISON = "l-urban_management-1"  # 城关 urban management: public facilities in street 1


@pytest.fixture(scope="module")
async def served(demo_db) -> AsyncIterator[Served]:
    s = await start(PORT)
    yield s
    finish(s)


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Pages]:
    async for p in pages():
        yield p


async def test_liaison_signs_for_notes_progress_and_asks_for_more_time(served, browser, engine) -> None:
    _, lon, lat = await worker_home(engine, "w0001")  # a point in street 1
    op = await token(served.base, "operator")
    r = await api(served.base, "POST", "/api/v1/alerts", op, json={
        "category": "public_facilities", "description": "路灯倒伏压住人行道 " + XSS, "lon": lon, "lat": lat,
        "channel": "hotline"})
    assert r.status_code == 201, r.text
    (order,) = [o for o in r.json()["orders"] if o["assignee_kind"] == "department"]
    oid = order["id"]
    assert order["department_code"] == "urban_management-320102001"
    liaison = await token(served.base, LIAISON)

    async def limits_set() -> bool:  # the scheduler adopts the order's sign-for and resolve limits
        rows = (await api(served.base, "GET", "/api/v1/dept/orders", liaison)).json()["orders"]
        return any(o["id"] == oid and o["ack_due_at"] and o["due_at"] for o in rows)
    await until(limits_set, what="the order's deadlines", served=served)

    ctx, rec = await browser.context(viewport=DESK)
    page = await ctx.new_page()
    errors = watch_errors(page)
    await page.goto(served.base + "/login?next=/dept")
    await page.fill("#username", LIAISON)
    await page.fill("#password", "demo1234")
    await page.click("#login-submit")
    row = page.locator(f".d-row[data-order='{oid}']")
    await row.wait_for()
    assert "城关城管中队" in await page.inner_text("#dept-name")
    assert XSS in await row.inner_text()
    await system_reason(engine, r.json()["id"], NO_WORKER)
    await row.click()
    assert XSS in await page.inner_text("#panel-desc")
    await page.locator("#panel .countdown").first.wait_for()
    assert "剩余" in await page.locator("#panel .countdown").first.inner_text()
    await page.locator("#panel .timeline li time").first.wait_for()
    # A system reason reads in Chinese by its code; the detail after the code is kept.
    await until(lambda: _contains(page.locator("#panel .timeline"), NO_WORKER_ZH), what="the translated reason")
    assert "no_worker" not in await page.inner_text("#panel .timeline")
    await shot(page, "dept")

    await page.click("#panel-sign")
    await until(lambda: _order_is(engine, oid, "signed_for"), what="signed for", served=served)
    await page.locator("#note-form").wait_for()  # the panel now offers the in-hand actions
    await page.fill("#note-form textarea", "已联系路灯维修班组，预计下午到场")
    await page.set_input_files("#note-form input[type=file]",
                               files=[{"name": "pole.png", "mimeType": "image/png", "buffer": png(800, 600)}])
    await page.locator("#note-form .photo-thumb img").wait_for()
    await page.click("#note-form button[type=submit]")

    async def noted() -> list:
        return await sql(engine, "SELECT payload FROM events WHERE order_id = :i AND kind = 'order.progress'", i=oid)
    (note,) = await until(noted, what="the progress note", served=served)
    assert len(note[0]["photos"]) == 1
    await page.fill("#extension-form textarea", "需等待配件到货")
    await page.fill("#extension-form input[type=datetime-local]", "2099-01-15T18:00")
    await page.click("#extension-form button[type=submit]")

    async def asked() -> list:
        return await sql(engine, "SELECT status, requested_due_at FROM extension_requests WHERE order_id = :i", i=oid)
    ((status, due),) = await until(asked, what="the extension request", served=served)
    assert status == "pending" and due.year == 2099
    timeline = page.locator("#panel .timeline")
    await until(lambda: _contains(timeline, "申请延期"), what="the request on the panel's timeline")
    assert "进展反馈" in await timeline.inner_text() and "预计下午到场" in await timeline.inner_text()
    assert "需等待配件到货" in await timeline.inner_text()  # what a person typed stays as typed
    # The note's photo is on the timeline, fetched with the token (an <img src> could not send it).
    await page.locator("#panel .timeline .stored-photo[src^='blob:']").wait_for(state="attached")
    await page.click("[data-filter=doing]")
    await page.locator(f".d-row[data-order='{oid}']").wait_for()
    await page.evaluate("document.getElementById('panel').scrollTop = 0")
    await shot(page, "dept-in-hand")
    assert await page.evaluate("window.__xss") is None
    assert await page.locator("img[src='x']").count() == 0
    rec.assert_own_origin(served.base)
    assert errors == []
    await ctx.close()


async def _contains(locator, text: str) -> bool:
    return text in await locator.inner_text()


async def _order_is(engine, order_id: int, status: str) -> bool:
    rows = await sql(engine, "SELECT status FROM orders WHERE id = :i", i=order_id)
    return rows[0][0] == status


async def test_resident_files_a_request_follows_it_and_rates_the_result(served, browser, engine) -> None:
    _, lon, lat = await worker_home(engine, "w0002")
    # On duty nearby, so the request is dispatched to them: the street's leader (room for 3 orders), since the
    # sweeper may first hand them the liaison test's incident, still short of a worker (a part-timer holds one).
    worker = await token(served.base, "w0001")
    for path, body in (("status", {"status": "available"}), ("position", {"lon": lon, "lat": lat})):
        r = await api(served.base, "POST", f"/api/v1/workers/me/{path}", worker, json=body)
        assert r.status_code == 200, r.text

    ctx, rec = await browser.context(viewport=PHONE, geo=(lon + 0.0004, lat + 0.0003))
    page = await ctx.new_page()
    errors = watch_errors(page)
    answers: list[dict] = []

    async def keep(response) -> None:
        if response.url.endswith("/api/v1/public/requests"):
            answers.append(await response.json())
    page.on("response", keep)
    await page.goto(served.base + "/r")
    await page.locator("#category option[value=health]").wait_for(state="attached")
    await page.select_option("#category", "health")
    description = "楼下独居老人两天没出门，敲门无人应 " + XSS
    await page.fill("#description", description)
    await page.click("#use-gps")
    await page.locator("#fix.ok").wait_for()
    await page.set_input_files("#photo-slot input[type=file]",
                               files=[{"name": "door.png", "mimeType": "image/png", "buffer": png(400, 300)}])
    await page.locator("#photo-slot .photo-thumb img").wait_for()
    await page.fill("#phone", "13800001234")
    await shot(page, "r-form")
    await page.click("#submit")
    await page.locator("#track-link").wait_for()
    await shot(page, "r-done")

    (answer,) = answers
    assert set(answer) == {"public_id", "token", "status", "tracking_url", "replayed"}  # nothing private
    ((iid, channel, phone, status),) = await sql(
        engine, "SELECT id, channel, reporter_phone, status FROM incidents WHERE public_id = :p",
        p=answer["public_id"])
    assert (channel, phone, status) == ("app", "13800001234", "dispatched")
    (photos,) = await sql(engine, "SELECT payload FROM events WHERE incident_id = :i AND kind = 'incident.photos'",
                          i=iid)
    assert len(photos[0]["photos"]) == 1

    await page.click("#see-progress")
    await page.locator("#status").wait_for()
    assert await page.inner_text("#my-description") == description  # the resident's own words, as text
    view = json.loads(await (await page.request.get(
        f"{served.base}/api/v1/track/{answer['public_id']}", headers={"X-Tracking-Token": answer["token"]})).text())
    assert "13800001234" not in json.dumps(view) and "description" not in view
    await shot(page, "r-track")

    # The grid worker takes and resolves it through the API; the resident's page then asks for a rating.
    orders = (await api(served.base, "GET", "/api/v1/workers/me/orders", worker)).json()["items"]
    (oid,) = [o["id"] for o in orders if o["incident_id"] == iid]
    assert (await api(served.base, "POST", f"/api/v1/orders/{oid}/accept", worker)).status_code == 200
    r = await api(served.base, "POST", f"/api/v1/orders/{oid}/resolve", worker, json={"note": "已上门，老人安好"})
    assert r.status_code == 200, r.text
    await page.reload()
    await page.locator("#rate").wait_for()
    assert await page.inner_text("#status") == "已办结"
    await shot(page, "r-rate")
    await page.click("#rate [data-rating=satisfied]")
    await page.locator("#rated").wait_for()
    assert "满意" in await page.inner_text("#rated")
    assert await sql(engine, "SELECT rating, via FROM callbacks WHERE incident_id = :i", i=iid) == [
        ("satisfied", "link")]
    assert await page.locator("#rate").count() == 0  # rated once per resolution
    assert await page.evaluate("window.__xss") is None
    assert await page.locator("img[src='x']").count() == 0
    rec.assert_own_origin(served.base)
    assert errors == []
    await ctx.close()
