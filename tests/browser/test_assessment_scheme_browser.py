"""The scheme panel (考核方案) of /supervise in headless Chromium against a real server with the demo city: the admin
sees the street level's built-in default in force with its indices, starts a new version from it, is refused
twice by the server (an empty name, a weight of 0) with the field named on the page and nothing stored, then
saves a version with a changed weight and a removed index, which is listed, marked in force and returned by
GET /schemes; a supervisor and an operator see the versions without the editor. The screenshot is looked at."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page

from tests.browser_kit import App, foreign_requests, open_page, save_screenshot
from tests.procs import free_port

PORT = free_port()
READY = "() => window.gridcmd.supervise && window.gridcmd.supervise.ready"


async def _open_panel(page: Page, level: str) -> None:
    await page.wait_for_function(READY, timeout=60000)
    await page.select_option("#sv-level", level)
    await page.wait_for_function(f"() => window.gridcmd.supervise.state.level === '{level}'")
    await page.click("#sv-schemes-open")
    await page.wait_for_function(f"() => window.gridcmd.schemes && window.gridcmd.schemes.loaded "
                                 f"&& window.gridcmd.schemes.level === '{level}'")


async def _stored(app: App) -> int:
    ((n,),) = await app.sql("SELECT count(*) FROM assessment_schemes")
    return int(n)


@pytest.fixture(scope="module")
async def admin_page(app: App, browser: Browser) -> AsyncIterator[Page]:
    page = await open_page(browser, app, "/supervise", username="admin")
    yield page
    assert foreign_requests(page, app.base) == []
    assert page.errors == []  # type: ignore[attr-defined]
    await page.context.close()


async def test_an_admin_adds_a_scheme_version(app: App, admin_page: Page) -> None:
    page = admin_page
    names = {i["code"]: i["name_zh"] for i in
             (await app.call("GET", "/api/v1/assessment/indices", "admin")).json()["indices"]}
    ((today,),) = await app.sql("SELECT (now() AT TIME ZONE 'Asia/Shanghai')::date")
    await _open_panel(page, "street")
    # The built-in default, in force, with its indices by their Chinese names.
    assert await page.locator("#sv-scheme-versions li").count() == 1
    assert await page.locator("#sv-scheme-versions li.in-force .sv-scheme-badge").inner_text() == "现行"
    rows = page.locator("#sv-scheme-indices tbody tr")
    assert await rows.count() == 10
    first = await rows.first.locator("td").all_inner_texts()
    assert first == [names["on_time_disposal_rate"], "25", "越高越好", "—"]
    assert await page.locator("#sv-scheme-indices tr[data-code='overdue_rate'] td").nth(2).inner_text() == "越低越好"
    assert await page.locator("#sv-scheme-indices tfoot td").nth(1).inner_text() == "100"

    # 新建版本: a copy of the version in force.
    await page.click("#sv-scheme-new")
    await page.wait_for_selector("#sv-scheme-form")
    assert await page.locator("#sv-scheme-new").is_hidden()
    assert await page.locator("#sv-scheme-edit tbody tr").count() == 10
    assert await page.locator("#sv-scheme-total").inner_text() == "100"

    # Refused: no name (a validation error), then a weight of 0 (the row named); nothing is stored.
    await page.click("#sv-scheme-save")
    error = page.locator("#sv-scheme-error")
    await error.wait_for()
    assert "方案名称" in await error.inner_text()
    assert await page.locator("label.invalid #sv-scheme-name").count() == 1
    assert await _stored(app) == 0
    await page.fill("#sv-scheme-name", "2026 街道方案（加重按时处置）")
    await page.fill("#sv-scheme-edit tr[data-code='sign_rate'] .sv-w-weight", "0")
    await page.click("#sv-scheme-save")
    await page.wait_for_function("() => ((document.querySelector('#sv-scheme-error') || {}).textContent || '')"
                                 f".includes('{names['sign_rate']}')")
    assert await page.locator("#sv-scheme-edit tr.invalid").get_attribute("data-code") == "sign_rate"
    assert await _stored(app) == 0
    listed = await app.call("GET", "/api/v1/assessment/schemes?level=street", "admin")
    assert len(listed.json()["versions"]) == 1

    # Fixed: 按时处置率 30 instead of 25, 回访率 removed, in force from today.
    await page.fill("#sv-scheme-edit tr[data-code='sign_rate'] .sv-w-weight", "5")
    assert await page.locator("#sv-scheme-error, #sv-scheme-edit tr.invalid").count() == 0  # the edit clears it
    await page.fill("#sv-scheme-edit tr[data-code='on_time_disposal_rate'] .sv-w-weight", "30")
    await page.click("#sv-scheme-edit tr[data-code='callback_rate'] .sv-w-remove")
    assert await page.locator("#sv-scheme-edit tr[data-code='callback_rate']").count() == 0
    assert await page.locator("#sv-scheme-edit tbody tr").count() == 9
    assert await page.locator("#sv-scheme-total").inner_text() == "102"  # 100 + 5 - 3
    # 回访率 is offered again among the indices the street level may add.
    assert await page.locator("#sv-scheme-add-code option[value='callback_rate']").count() == 1
    await page.fill("#sv-scheme-from", today.isoformat())
    await page.fill("#sv-scheme-note", "按时处置率权重提高到 30，取消回访率")
    await save_screenshot(page, "supervise-scheme.png")
    await page.click("#sv-scheme-save")
    await page.wait_for_selector("#sv-scheme-versions li:nth-child(2)")
    assert await page.locator("#sv-scheme-form").count() == 0
    newest = page.locator("#sv-scheme-versions li").first  # the newest first
    assert "2026 街道方案（加重按时处置）" in await newest.inner_text()
    assert "系统管理员" in await newest.inner_text()
    assert await newest.get_attribute("class") == "sv-scheme-version selected in-force"
    assert await page.locator("#sv-scheme-indices tbody tr").count() == 9
    assert await page.locator("#sv-scheme-indices tfoot td").nth(1).inner_text() == "102"

    versions = (await app.call("GET", "/api/v1/assessment/schemes?level=street", "supervisor")).json()["versions"]
    assert len(versions) == 2 and await _stored(app) == 1
    made = versions[-1]
    assert made["name"] == "2026 街道方案（加重按时处置）" and made["effective_from"] == today.isoformat()
    assert made["note"] == "按时处置率权重提高到 30，取消回访率" and made["created_by"] == "系统管理员"
    weights = {w["code"]: w["weight"] for w in made["indices"]}
    assert "callback_rate" not in weights and weights["on_time_disposal_rate"] == 30 and len(weights) == 9


@pytest.mark.parametrize("username", ["supervisor", "operator"])
async def test_others_read_the_scheme_without_the_editor(app: App, browser: Browser, admin_page: Page,
                                                         username: str) -> None:
    page = await open_page(browser, app, "/supervise", username=username)
    await page.wait_for_function(READY, timeout=60000)
    await page.click("#sv-schemes-open")
    await page.wait_for_function("() => window.gridcmd.schemes && window.gridcmd.schemes.loaded")
    await page.select_option("#sv-level", "grid")
    await page.select_option("#sv-level", "street")
    await page.wait_for_function("() => window.gridcmd.schemes.level === 'street' "
                                 "&& window.gridcmd.schemes.versions.length === 2")
    await page.wait_for_selector("#sv-scheme-versions li:nth-child(2)")
    assert await page.locator("#sv-scheme-new").is_hidden()
    assert await page.locator("#sv-scheme-indices tbody tr").count() == 9
    assert await page.locator(".sv-w-weight, #sv-scheme-form, #sv-scheme-save").count() == 0
    assert "只读" in await page.locator("#sv-scheme-body").inner_text()
    assert page.errors == []  # type: ignore[attr-defined]
    assert foreign_requests(page, app.base) == []
    await page.context.close()
