"""Published reports on /supervise in headless Chromium against the demo city: the scheduler's job generates a
half-monthly analysis for the supervisor's district (a subscribed grid worker waits for it); the supervisor sees
it as a draft, writes the 研判 note and releases it; it reaches the worker's notice list on /m; the screenshots
are looked at."""

from __future__ import annotations

from playwright.async_api import Browser, expect
from redis.asyncio import Redis

from command.core.db import make_sessionmaker
from command.core.settings import Settings
from command.ops import report_jobs
from tests.browser_kit import App, foreign_requests, open_page, save_screenshot
from tests.procs import free_port

PORT = free_port()
WORKER = "w0001"
NOTE = "本期市容环境类诉求集中，建议下半月开展重点巡查。"


async def test_a_supervisor_writes_the_analysis_and_releases_it_to_a_subscriber(
        app: App, browser: Browser, settings: Settings) -> None:
    me = (await app.call("GET", "/api/v1/auth/me", "supervisor")).json()
    district = me["region_code"]
    (worker_user,) = (await app.sql("SELECT id FROM users WHERE username = :u", u=WORKER))[0]
    r = await app.call("PUT", "/api/v1/reports/subscriptions", "supervisor",
                       json={"user_id": worker_user, "region": district, "kinds": ["half_monthly"]})
    assert r.status_code == 200, r.text
    async with Redis.from_url(settings.redis_url) as redis:
        got = await report_jobs.run_due(make_sessionmaker(app.engine), redis, tz=settings.timezone)
    assert len(got.ids) == 1 and got.pushed == 0

    page = await open_page(browser, app, "/supervise", username="supervisor")
    page.on("dialog", lambda d: d.accept())
    await page.wait_for_function("() => window.gridcmd.supervise && window.gridcmd.supervise.ready", timeout=60000)
    item = page.locator("#sv-reports li[data-kind='half_monthly']")
    await expect(item).to_have_class("sv-report draft")
    await item.locator("textarea").fill(NOTE)
    await save_screenshot(page, "supervise-report-draft.png")
    await item.locator("button.btn-warn").click()
    await expect(page.locator("#sv-reports li[data-kind='half_monthly']")).to_have_class("sv-report", timeout=15000)
    await save_screenshot(page, "supervise-report-released.png")
    assert foreign_requests(page, app.base) == []
    assert page.errors == []  # type: ignore[attr-defined]
    await page.context.close()

    report = (await app.call("GET", f"/api/v1/reports/{got.ids[0]}", "supervisor")).json()
    assert report["status"] == "released" and report["analysis"] == NOTE
    mine = (await app.call("GET", "/api/v1/notices/mine", WORKER)).json()
    assert any("半月研判" in n["title"] for n in mine)
    m = await open_page(browser, app, "/m", username=WORKER, width=412, height=915)
    await expect(m.locator("#notices article", has_text="半月研判")).to_be_visible(timeout=15000)
    await save_screenshot(m, "m-report-notice.png", quantise=False)
    await m.context.close()


async def test_the_whole_deployments_monthly_report_is_listed_for_the_centre(
        app: App, browser: Browser, settings: Settings) -> None:
    """Region `*` (全域): an admin subscribes to the monthly 通报 of everything; it is listed on /supervise with
    its downloads, and a district supervisor's list does not show it."""
    (admin_user,) = (await app.sql("SELECT id FROM users WHERE username = 'admin'"))[0]
    r = await app.call("PUT", "/api/v1/reports/subscriptions", "admin",
                       json={"user_id": admin_user, "region": "*", "kinds": ["monthly"]})
    assert r.status_code == 200, r.text
    async with Redis.from_url(settings.redis_url) as redis:
        got = await report_jobs.run_due(make_sessionmaker(app.engine), redis, tz=settings.timezone)
    assert len(got.ids) >= 1
    page = await open_page(browser, app, "/supervise", username="admin")
    await page.wait_for_function("() => window.gridcmd.supervise && window.gridcmd.supervise.ready", timeout=60000)
    item = page.locator("#sv-reports li[data-kind='monthly']", has_text="全域")
    await expect(item).to_be_visible(timeout=15000)
    await expect(item.get_by_role("button", name="PDF")).to_be_visible()
    await save_screenshot(page, "supervise-report-whole.png")
    assert page.errors == []  # type: ignore[attr-defined]
    await page.context.close()
    listed = (await app.call("GET", "/api/v1/reports", "supervisor")).json()["reports"]
    assert all(x["region_code"] != "*" for x in listed)
