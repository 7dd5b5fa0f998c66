"""Counter intake (窗口/服务专柜, issue 15 item 4) in Chromium against a real server with the demo city: a counter
operator picks a 即办 item of the catalogue at /counter, sees its materials (一次性告知), records the resident and
the outcome, closes it on the spot and lands on the printable receipt with the tracking QR code; the incident is
closed, with the operator on every step of its timeline."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from tests.browser_kit import App, foreign_requests, open_page, save_screenshot
from tests.procs import free_port

pytestmark = pytest.mark.timeout(180)
PORT = free_port()  # chosen by the kernel: two suites can run on one machine


async def test_a_counter_operator_closes_an_immediate_item_and_prints_a_receipt(app: App, browser: Browser) -> None:
    (code, name) = (await app.sql("SELECT code, name FROM service_items WHERE item_type = 'immediate' "
                                  "AND category_code IS NOT NULL AND active ORDER BY code LIMIT 1"))[0]
    (street,) = (await app.sql("SELECT code FROM regions WHERE level = 'street' ORDER BY code LIMIT 1"))[0]
    lon, lat = await app.point_in(street)

    desk = await open_page(browser, app, "/counter")
    await expect(desk.locator("#items li[data-code]").first).to_be_visible(timeout=15000)
    await desk.fill("#q", name)
    await desk.locator(f"#items li[data-code='{code}']").click()
    await expect(desk.locator("#materials li").first).to_be_visible()
    await expect(desk.locator("#c-promise")).to_be_hidden()
    await desk.fill("#c-name", "赵秀英")
    await desk.fill("#c-phone", "13955556666")
    await desk.fill("#c-desc", "本人到窗口办理。")
    await desk.fill("#c-outcome", "材料齐全，当场办结，已告知结果。")
    await desk.click(".ctr-place summary")
    await desk.fill("#c-lon", f"{lon:.6f}")
    await desk.fill("#c-lat", f"{lat:.6f}")
    await save_screenshot(desk, "counter-desk.png")
    await desk.click("#c-spot")

    await desk.wait_for_url("**/counter/receipt/*", timeout=15000)
    await expect(desk.locator("#receipt")).to_be_visible(timeout=10000)
    await expect(desk.locator("#r-item")).to_contain_text(name)
    await expect(desk.locator("#r-resident")).to_have_text("赵秀英 139****6666")
    await expect(desk.locator("#r-outcome")).to_contain_text("材料齐全，当场办结")
    await expect(desk.locator("#r-due-row")).to_be_hidden()
    await expect(desk.locator("#r-link")).to_contain_text("/r/t/")
    assert await desk.locator("#r-qr").evaluate("img => img.complete && img.naturalWidth > 100")
    await save_screenshot(desk, "counter-receipt.png", quantise=False)
    # What the printer gets: the tools bar is not printed.
    await desk.emulate_media(media="print")
    await expect(desk.locator(".receipt-tools")).to_be_hidden()
    await save_screenshot(desk, "counter-receipt-print.png", quantise=False)

    iid = int(desk.url.rsplit("/", 1)[1])
    (status,) = (await app.sql("SELECT status FROM incidents WHERE id = :i", i=iid))[0]
    assert status == "closed"
    actors = await app.sql("SELECT kind, actor FROM events WHERE incident_id = :i AND kind IN "
                           "('incident.resolved', 'incident.verified', 'incident.closed') ORDER BY id", i=iid)
    assert [tuple(a) for a in actors] == [("incident.resolved", "operator"), ("incident.verified", "operator"),
                                         ("incident.closed", "operator")]
    assert foreign_requests(desk, app.base) == []
    assert desk.errors == []  # type: ignore[attr-defined]
