"""Command-centre communication in Chromium (issue 15 item 7).

Notices in Chromium against a real server with the demo city (issue 15 item 7): the district operator finds a
grid worker and a department in the contact book (/contacts, 1920×1080), sends them a notice; it reaches the
worker's /m (phone, 412×915) and the department liaison's /dept live, without a reload; the worker marks it read and
the operator's receipts show who read it and who has not, live.

Handover: the district operator, on duty with the supervisor rostered next, writes the handover note on /duty;
the supervisor's console shows it live at the top, they sign it on /duty and the operator's book shows it signed."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.async_api import Browser, expect

from tests.browser_kit import App, foreign_requests, open_page, save_screenshot
from tests.procs import free_port

pytestmark = pytest.mark.timeout(180)
PORT = free_port()  # chosen by the kernel: two suites can run on one machine
WORKER, LIAISON = "w0001", "l-power"
PHONE_412 = {"width": 412, "height": 915}


async def test_a_notice_reaches_m_and_dept_live_and_the_sender_sees_who_read_it(app: App, browser: Browser) -> None:
    (worker_name,) = (await app.sql("SELECT w.name FROM workers w JOIN users u ON u.id = w.user_id "
                                    "WHERE u.username = :u", u=WORKER))[0]
    (dept_code, dept_name) = (await app.sql("SELECT d.code, d.name FROM departments d JOIN users u "
                                            "ON u.department_code = d.code WHERE u.username = :u", u=LIAISON))[0]

    m = await open_page(browser, app, "/m", username=WORKER, **PHONE_412)
    await expect(m.locator("#main")).to_be_visible(timeout=15000)
    dept = await open_page(browser, app, "/dept", username=LIAISON)
    await expect(dept.locator("#net")).to_have_attribute("data-state", "online", timeout=15000)
    await expect(m.locator("#notices")).to_be_hidden()

    console = await open_page(browser, app, "/contacts")
    await expect(console.locator("#live-state")).to_have_attribute("data-state", "live", timeout=15000)
    await expect(console.locator("tr[data-worker]").first).to_be_visible(timeout=15000)
    # Click-to-call: every phone shown is a tel: link.
    assert await console.locator("a.tel").count() > 10
    assert (await console.locator("a.tel").first.get_attribute("href")).startswith("tel:")

    await console.fill("#q", worker_name)
    row = console.locator("tr[data-worker]", has_text=worker_name).first
    await row.locator("input.pick").check()
    await console.fill("#q", dept_name)
    await console.locator(f"tr[data-department='{dept_code}'] input.pick").check()
    await expect(console.locator("#n-to .chip")).to_have_count(2)
    await console.fill("#n-title", "今晚防汛值守通知")
    await console.fill("#n-body", "气象台发布暴雨橙色预警，请于 20:00 前到岗，重点巡查低洼地段和地下通道。")
    await console.select_option("#n-priority", "1")
    await save_screenshot(console, "contacts-compose.png")
    await console.click("#n-send")
    await expect(console.locator("#receipts .receipt-list li")).to_have_count(2, timeout=10000)

    # Live on both: no reload.
    banner = m.locator("#notices article", has_text="今晚防汛值守通知")
    await expect(banner).to_be_visible(timeout=10000)
    await expect(dept.locator("#notices article", has_text="今晚防汛值守通知")).to_be_visible(timeout=10000)
    await save_screenshot(m, "m-notice.png", quantise=False)
    await save_screenshot(dept, "dept-notice.png")

    await banner.locator("button.notice-read").click()
    await expect(m.locator("#notices")).to_be_hidden(timeout=10000)
    await expect(console.locator(f"#receipts li[data-user='{WORKER}']")).to_have_class("read", timeout=10000)
    await expect(console.locator(f"#receipts li[data-user='{LIAISON}']")).to_have_class("unread")
    await expect(console.locator("#sent li .read-count").first).to_have_text("已读 1/2")
    await save_screenshot(console, "contacts-receipts.png")
    # The liaison still has it until they read it; a reload keeps it.
    await dept.reload()
    await expect(dept.locator("#notices article", has_text="今晚防汛值守通知")).to_be_visible(timeout=10000)

    for page in (m, dept, console):
        assert foreign_requests(page, app.base) == []
        assert page.errors == []  # type: ignore[attr-defined]


async def test_the_next_operator_on_duty_sees_the_handover_in_the_console_and_signs_it(app: App,
                                                                                       browser: Browser) -> None:
    now = datetime.now(UTC)
    for user, start, end in (("operator", -6, 2), ("supervisor", 2, 10)):
        r = await app.call("POST", "/api/v1/duty/shifts", "operator", json={
            "username": user, "starts_at": (now + timedelta(hours=start)).isoformat(),
            "ends_at": (now + timedelta(hours=end)).isoformat()})
        assert r.status_code == 201, r.text
    console = await open_page(browser, app, "/console", username="supervisor")
    await expect(console.locator("#live-state")).to_have_attribute("data-state", "live", timeout=15000)
    await expect(console.locator("#handover-banner")).to_be_hidden()

    duty = await open_page(browser, app, "/duty")
    await expect(duty.locator("#next-name")).to_have_text("城南区督查室", timeout=15000)
    await expect(duty.locator("#roster tr[data-user='operator'] td.now")).to_be_visible()
    assert await duty.locator("#roster tr").count() == 2
    await duty.fill("#h-note", "1. 东风街道积水点仍在排水，22:00 前复查。\n2. 3 起事件待回访。\n"
                               "3. 大屏 2 号屏信号不稳，已报修。")
    await duty.click("#h-submit")
    await expect(duty.locator("#history .duty-item.unsigned")).to_have_count(1, timeout=10000)

    # Live in the next operator's console, without a reload.
    await expect(console.locator("#handover-banner")).to_be_visible(timeout=10000)
    await expect(console.locator("#handover-banner")).to_contain_text("城南区指挥中心值班员")
    await save_screenshot(console, "console-handover.png")
    await console.click("#handover-banner a")
    await console.wait_for_url("**/duty")
    item = console.locator("#pending .duty-item").first
    await expect(item).to_contain_text("东风街道积水点")
    await save_screenshot(console, "duty-sign.png")
    await item.locator(".sign-note").fill("已接班，继续跟进积水点")
    await item.locator("button.sign").click()
    await expect(console.locator("#pending .duty-item")).to_have_count(0, timeout=10000)
    # The outgoing operator's book shows it signed, live.
    await expect(duty.locator("#history .duty-item .signed")).to_contain_text("城南区督查室", timeout=10000)
    await save_screenshot(duty, "duty-history.png")
    for page in (console, duty):
        assert foreign_requests(page, app.base) == []
        assert page.errors == []  # type: ignore[attr-defined]


async def test_a_resident_finds_an_item_in_the_catalogue_on_r_and_files_from_it(app: App, browser: Browser) -> None:
    (lon, lat) = (await app.sql("SELECT ST_X(w.home), ST_Y(w.home) FROM workers w JOIN users u ON u.id = w.user_id "
                                "WHERE u.username = 'w0003'"))[0]
    r = await open_page(browser, app, "/r", **PHONE_412)
    await r.click("#guide summary")
    await expect(r.locator("#guide-list li[data-code]")).to_have_count(56, timeout=10000)
    await r.fill("#guide-q", "低保")
    await expect(r.locator("#guide-list li[data-code='S001']")).to_be_visible(timeout=10000)
    await r.click("#guide-list li[data-code='S001'] .g-item")
    detail = r.locator("#guide-list li[data-code='S001'] .g-detail")
    await expect(detail).to_contain_text("家庭收入及财产申报表")
    await expect(detail).to_contain_text("20 个工作日")
    await save_screenshot(r, "r-guide.png", quantise=False)
    await detail.locator(".g-file").click()
    await expect(r.locator("#category")).to_have_value("subsistence_allowance")
    await expect(r.locator("#description")).to_have_value(re.compile(r"^【办理事项 S001：最低生活保障申请】"))
    await r.locator("#description").press("End")
    await r.locator("#description").type("家里老人生病，想咨询低保怎么申请。")
    await r.click("#manual summary")
    await r.fill("#lon", str(lon))
    await r.fill("#lat", str(lat))
    await r.click("#submit")
    await r.locator("#track-link").wait_for(timeout=15000)
    (row,) = await app.sql("SELECT category_code, description, service_item_code FROM incidents ORDER BY id DESC "
                           "LIMIT 1")
    assert row[0] == "subsistence_allowance" and row[1].startswith("【办理事项 S001：最低生活保障申请】")
    assert row[2] == "S001"  # the incident names its item, not only its description
    assert foreign_requests(r, app.base) == [] and r.errors == []  # type: ignore[attr-defined]


async def test_the_operators_form_tells_every_material_of_a_service_item_at_once(app: App, browser: Browser) -> None:
    page = await open_page(browser, app, "/console")
    await expect(page.locator("#live-state")).to_have_attribute("data-state", "live", timeout=15000)
    for _ in range(50):  # the button works once the console has booted (its board loaded)
        await page.click("#new-call")
        if await page.locator("#create-form").is_visible():
            break
        await page.wait_for_timeout(200)
    await page.click("#cf-item")
    await expect(page.locator("#cf-items option")).to_have_count(56, timeout=10000)
    await page.fill("#cf-item", "S001 最低生活保障申请")
    await page.dispatch_event("#cf-item", "change")
    info = page.locator("#cf-item-info")
    await expect(info).to_contain_text("家庭收入及财产申报表")
    await expect(info).to_contain_text("20 个工作日")
    await expect(page.locator("#cf-category")).to_have_value("subsistence_allowance")
    await expect(page.locator("#cf-description")).to_have_value(re.compile(r"^【办理事项 S001：最低生活保障申请】"))
    await save_screenshot(page, "console-service-item.png")
    (lon, lat) = (await app.sql("SELECT ST_X(w.home), ST_Y(w.home) FROM workers w JOIN users u ON u.id = w.user_id "
                                "WHERE u.username = 'w0003'"))[0]
    await page.fill("#cf-lon", str(lon))
    await page.fill("#cf-lat", str(lat))
    await page.click("#cf-submit")
    # Sent with the item: the detail of the new incident names it.
    await expect(page.locator("#detail-service-item")).to_contain_text("S001 最低生活保障申请", timeout=15000)
    (row,) = await app.sql("SELECT service_item_code, channel FROM incidents ORDER BY id DESC LIMIT 1")
    assert tuple(row) == ("S001", "hotline")
    assert page.errors == []  # type: ignore[attr-defined]
