"""Petitions (信访, issue 15 item 5) in Chromium against a real server with the demo city: the administrator adds the
petition category and gives the district operator the petition-staff duty and the supervisor the leader duty; the
operator registers a letter received on 29 September 2026 on /petitions and sees its limits across National Day
(受理告知 by 9 October, 答复 by 26 October: working days of the official schedule), sends the acceptance notice and
gives it to the leader; the leader finds it in their own queue and records the reply; the operator records the
petitioner's 不满意 and the review (复查) opens with its own limit; the leader records the review's answer."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Browser, expect

from tests.browser_kit import App, foreign_requests, open_page, save_screenshot
from tests.procs import free_port

pytestmark = pytest.mark.timeout(180)
PORT = free_port()  # chosen by the kernel: two suites can run on one machine


async def _duties(app: App) -> None:
    r = await app.call("PUT", "/api/v1/admin/categories/petition", "admin", json={
        "name_zh": "信访", "name_en": "Petition", "group": "service", "default_priority": 3, "item_type": "promise"})
    assert r.status_code == 200, r.text
    for user, duty in (("operator", "staff"), ("supervisor", "leader")):
        (uid,) = (await app.sql("SELECT id FROM users WHERE username = :u", u=user))[0]
        r = await app.call("PATCH", f"/api/v1/admin/users/{uid}", "admin", json={"petition_role": duty})
        assert r.status_code == 200, r.text


async def test_a_petition_runs_register_notice_leader_reply_unsatisfied_review(app: App, browser: Browser) -> None:
    await _duties(app)
    (street,) = (await app.sql("SELECT code FROM regions WHERE level = 'street' ORDER BY code LIMIT 1"))[0]
    lon, lat = await app.point_in(street)

    desk = await open_page(browser, app, "/petitions")
    await expect(desk.locator("#reg-form")).to_be_visible(timeout=15000)
    await desk.select_option("#r-form", "letter")
    await desk.fill("#r-name", "李明华")
    await desk.fill("#r-phone", "13812345678")
    await desk.fill("#r-desc", "反映小区旁工地夜间施工噪音扰民，多次向街道反映未解决，要求依法处理。")
    await desk.fill("#r-lon", f"{lon:.6f}")
    await desk.fill("#r-lat", f"{lat:.6f}")
    await desk.fill("#r-received", "2026-09-29")
    await desk.click("#r-submit")
    steps = desk.locator("#detail .pet-steps")
    await expect(steps.locator("li[data-step='notice'] .due")).to_contain_text("2026/10/09", timeout=10000)
    await expect(steps.locator("li[data-step='reply'] .due")).to_contain_text("2026/10/26")
    await expect(desk.locator("#d-petitioner")).to_contain_text("李明华 13812345678")
    await save_screenshot(desk, "petitions-registered.png")

    await desk.click("#f-notice button[type=submit]")
    await expect(steps.locator("li[data-step='notice']")).to_have_class("done", timeout=10000)
    await desk.select_option("#a-leader", label="城南区督查室")
    await desk.click("#f-leader button[type=submit]")
    await expect(steps.locator("li[data-step='leader'] .text")).to_have_text("城南区督查室", timeout=10000)

    leader = await open_page(browser, app, "/petitions", username="supervisor")
    await expect(leader.locator("#mine")).to_be_checked(timeout=15000)
    await expect(leader.locator("#reg-form")).to_be_hidden()
    row = leader.locator("#list tr[data-id]")
    await expect(row).to_have_count(1, timeout=10000)
    await row.click()
    await expect(leader.locator("#d-petitioner")).to_contain_text("李明华")  # the case's own leader sees them
    await leader.fill("#a-reply", "经核查，该工地已责令22时后停止高噪音作业，并安排城管每晚巡查。")
    await leader.click("#f-reply button[type=submit]")
    await expect(leader.locator("#detail h3")).to_contain_text("已答复", timeout=10000)
    await save_screenshot(leader, "petitions-leader-queue.png")

    await desk.reload()
    await desk.locator("#list tr[data-id]").first.click()
    await desk.select_option("#a-satisfied", "no")
    await desk.fill("#a-ans-reason", "巡查流于形式，噪音依旧，申请复查")
    await desk.click("#f-answer button[type=submit]")
    review = desk.locator("#detail .pet-steps li[data-step='review'] .due")
    await expect(review).to_be_visible(timeout=10000)
    (pid,) = (await app.sql("SELECT incident_id FROM petitions"))[0]
    due = (await app.call("GET", f"/api/v1/petitions/{pid}", "operator")).json()["review_due_at"]
    local_day = datetime.fromisoformat(due).astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y/%m/%d")
    await expect(review).to_contain_text(local_day)
    await save_screenshot(desk, "petitions-review.png")

    await leader.reload()
    await leader.locator("#list tr[data-id]").first.click()
    await leader.fill("#a-reply", "复查意见：已协调停工整改，夜间施工许可收回。")
    await leader.click("#f-reply button[type=submit]")
    await expect(leader.locator("#detail h3")).to_contain_text("已办结", timeout=10000)
    await expect(leader.locator("#detail .pet-steps li[data-step='review']")).to_have_class("done")
    await save_screenshot(leader, "petitions-closed.png")

    # A street operator without petition duty: the incident is theirs to see, the petitioner is not.
    street_op = (await app.sql("SELECT username FROM users WHERE role = 'operator' AND region_code = :s", s=street))
    if street_op:
        r = await app.call("GET", f"/api/v1/incidents/{pid}", street_op[0][0])
        assert r.status_code == 200 and "reporter" not in r.json()
    for page in (desk, leader):
        assert foreign_requests(page, app.base) == []
        assert page.errors == []  # type: ignore[attr-defined]
