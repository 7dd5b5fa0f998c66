"""Every closed-loop action from the console (/console) in headless Chromium, against a real server, database
and Redis with the demo city: send to departments (lead and supporting, 联办), rework, verify, phone callback,
close; transfer and on-the-spot resolution; duplicates merged and dismissed; 挂账, 作废, escalation, 督办;
extension grant and refuse (a supervisor); statistics and the ledger download. After each group the incident's
event log (GET /api/v1/incidents/{id}) says who did it; a refusal of the API shows in the dialog and the toast.
Screenshots of the action panel and the dialogs at 1920×1080."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page

from tests.browser_kit import App, foreign_requests, open_page, save_screenshot
from tests.procs import free_port

PORT = free_port()
STREET1, STREET2 = "320102001", "320102002"


@pytest.fixture(scope="module")
async def console(app: App, browser: Browser) -> AsyncIterator[Page]:
    page = await open_page(browser, app, "/console")
    await page.wait_for_function("() => window.gridcmd.console && window.gridcmd.console.ready", timeout=60000)
    await page.wait_for_selector("#live-state[data-state=live]", timeout=20000)
    yield page
    assert foreign_requests(page, app.base) == []
    assert page.errors == []  # type: ignore[attr-defined]
    await page.context.close()


async def _select(page: Page, incident_id: int) -> None:
    await page.evaluate("(id) => window.gridcmd.console.select(id)", incident_id)
    await page.wait_for_selector(f'#detail .title:text-matches("^#{incident_id} ")', timeout=10000)


async def _status(page: Page, status: str) -> None:
    await page.wait_for_selector(f'#detail .detail-head .chip[data-status="{status}"]', timeout=10000)


async def _dialog(page: Page, opener: str, fill: dict[str, str], submit: str) -> None:
    await page.click(opener)
    await page.wait_for_selector("dialog.action-dialog[open]")
    for selector, value in fill.items():
        if await page.locator(selector).evaluate("(el) => el.tagName") == "SELECT":
            await page.select_option(selector, value)
        else:
            await page.fill(selector, value)
    await page.click(submit)
    await page.wait_for_selector("dialog.action-dialog", state="detached", timeout=10000)


async def _events(app: App, incident_id: int, username: str = "operator") -> list[tuple[str, str, str | None]]:
    r = await app.call("GET", f"/api/v1/incidents/{incident_id}", username)
    assert r.status_code == 200, r.text
    return [(e["kind"], e["actor"], e["reason"]) for e in r.json()["events"]]


async def _alert(app: App, street: str, category: str, description: str, dx: float = 0.0) -> dict:
    lon, lat = await app.point_in(street + "001")
    return await app.alert(category=category, description=description, lon=lon + dx, lat=lat)


async def _liaison(app: App, username: str) -> str:
    ((code,),) = await app.sql("SELECT department_code FROM users WHERE username = :u", u=username)
    return code


async def _orders(app: App, incident_id: int) -> list[tuple[int, str, str, str]]:
    rows = await app.sql("SELECT id, department_code, role, status FROM orders WHERE incident_id = :i "
                         "AND assignee_kind = 'department' ORDER BY id", i=incident_id)
    return [tuple(r) for r in rows]


async def _all_done(app: App, orders: list[tuple[int, str, str, str]], sign: bool) -> None:
    """Every department's liaison reports its order done (what /dept does), signing for it first."""
    for order_id, dept, *_ in orders:
        ((liaison,),) = await app.sql("SELECT username FROM users WHERE role = 'liaison' AND department_code = :d "
                                      "ORDER BY id LIMIT 1", d=dept)
        if sign:
            r = await app.call("POST", f"/api/v1/dept/orders/{order_id}/sign", liaison)
            assert r.status_code == 200, r.text
        r = await app.call("POST", f"/api/v1/dept/orders/{order_id}/done", liaison, json={"feedback": "已处理"})
        assert r.status_code == 200, r.text


async def test_departments_rework_verify_callback_close(app: App, console: Page) -> None:
    page = console
    lead, support = await _liaison(app, "l-power"), await _liaison(app, "l-water")
    inc = await _alert(app, STREET1, "public_facilities", "小区路灯和水泵同时故障")
    await _select(page, inc["id"])
    # 派单到部门: a lead and a supporting department (联办件), beside the routing rule's own orders.
    ((before,),) = await app.sql("SELECT count(*) FROM orders WHERE incident_id = :i", i=inc["id"])
    await page.click("#act-departments")
    await page.wait_for_selector("#dlg-departments[open]")
    await page.select_option("#dlg-lead", lead)
    await page.check(f'#dlg-supports input[value="{support}"]')
    await page.select_option("#dlg-item_type", "joint")
    await save_screenshot(page, "console-dialog-departments-1920x1080.png")
    await page.click("#dlg-departments-submit")
    await page.wait_for_selector("#dlg-departments", state="detached", timeout=10000)
    await page.wait_for_function(f"() => document.querySelectorAll('#orders tr').length === {before + 2}",
                                 timeout=10000)
    orders = await _orders(app, inc["id"])
    assert [(d, role) for _, d, role, _ in orders[-2:]] == [(lead, "lead"), (support, "support")]

    await _all_done(app, orders, sign=True)
    await _status(page, "resolved")
    await save_screenshot(page, "console-action-panel-1920x1080.png")
    # 返工 with a reason; both departments report done again.
    await _dialog(page, "#act-rework", {"#dlg-reason": "水泵仍有异响"}, "#dlg-rework-submit")
    await _status(page, "in_progress")
    await _all_done(app, orders, sign=False)
    await _status(page, "resolved")
    await page.click("#act-verify")
    await _status(page, "verified")
    # 电话回访 with the satisfaction answer.
    await page.click("#act-callback")
    await page.wait_for_selector("#dlg-callback[open]")
    await page.select_option("#dlg-rating", "satisfied")
    await page.fill("#dlg-comment", "居民表示满意")
    await save_screenshot(page, "console-dialog-callback-1920x1080.png")
    await page.click("#dlg-callback-submit")
    await _status(page, "callback_done")
    await page.click("#act-close")
    await _status(page, "closed")

    events = await _events(app, inc["id"])
    by_operator = {k for k, actor, _ in events if actor == "operator"}
    assert {"incident.dispatched", "order.sent", "incident.rework", "incident.verified", "incident.rated",
            "incident.callback", "incident.closed"} <= by_operator, by_operator
    assert ("incident.rework", "operator", "水泵仍有异响") in events
    ((rating,),) = await app.sql("SELECT rating FROM callbacks WHERE incident_id = :i", i=inc["id"])
    assert rating == "satisfied"


async def test_transfer_then_on_the_spot(app: App, console: Page) -> None:
    page = console
    inc = await _alert(app, STREET1, "law_publicity", "咨询物业费收费标准（答复件）")
    await _select(page, inc["id"])
    await page.click("#act-transfer")
    await page.wait_for_selector("#dlg-transfer[open]")
    target = await page.evaluate(f"""() => [...document.querySelectorAll('#dlg-region_code option')]
        .map((o) => o.value).find((v) => v.startsWith('{STREET2}') && v.length > {len(STREET2)})""")
    assert target
    await page.select_option("#dlg-region_code", target)
    await page.click("#dlg-transfer-submit")  # no reason: the dialog says so, nothing is sent
    await page.wait_for_selector("#dlg-transfer .form-error:not([hidden])")
    assert "理由" in await page.text_content("#dlg-transfer .form-error")
    await page.fill("#dlg-reason", "事发地属迁入地辖区")
    await save_screenshot(page, "console-dialog-transfer-1920x1080.png")
    await page.click("#dlg-transfer-submit")
    await page.wait_for_selector("#dlg-transfer", state="detached", timeout=10000)
    await _status(page, "located")
    ((region,),) = await app.sql("SELECT region_code FROM incidents WHERE id = :i", i=inc["id"])
    assert region == target
    # 答复件 answered on the spot.
    await _dialog(page, "#act-on-the-spot", {"#dlg-note": "已电话告知收费标准依据"}, "#dlg-on-the-spot-submit")
    await _status(page, "resolved")
    events = await _events(app, inc["id"])
    assert ("incident.transferred", "operator", "事发地属迁入地辖区") in events
    assert ("incident.resolved", "operator", "已电话告知收费标准依据") in events


async def test_duplicates_merged_and_dismissed(app: App, console: Page) -> None:
    page = console
    first = await _alert(app, STREET1, "flooding", "路口积水")
    second = await _alert(app, STREET1, "flooding", "路口积水严重", dx=0.0002)
    third = await _alert(app, STREET1, "flooding", "又有人报积水", dx=-0.0002)
    # 排除重复: the second is another incident after all.
    await _select(page, second["id"])
    await page.click(f"#act-dismiss-{first['id']}")
    await page.wait_for_selector(f"#act-dismiss-{first['id']}", state="detached", timeout=10000)
    # 合并: the third folds into the first (suggested, so pre-filled).
    await _select(page, third["id"])
    await page.click("#act-merge")
    await page.wait_for_selector("#dlg-merge[open]")
    assert await page.input_value("#dlg-into_id") == str(first["id"])
    await page.fill("#dlg-reason", "同一处积水")
    await page.click("#dlg-merge-submit")
    await _status(page, "merged")
    assert ("incident.duplicate_dismissed", "operator", None) in await _events(app, second["id"])
    assert any(k == "incident.merged" and a == "operator" for k, a, _ in await _events(app, third["id"]))


async def test_suspend_cancel_escalate_supervise(app: App, console: Page) -> None:
    page = console
    inc = await _alert(app, STREET1, "public_facilities", "井盖缺失待市政处理")
    await _select(page, inc["id"])
    await page.fill("#supervise-reason", "涉及行人安全")
    await page.click("#act-supervise")
    await page.wait_for_function("() => [...document.querySelectorAll('.timeline li')].some((li) =>"
                                 " li.textContent.includes('涉及行人安全'))", timeout=10000)
    # 上报上级 one level at a time up to the top region; above it there is nobody (the API's 409, shown).
    ((path,),) = await app.sql("SELECT region_path FROM incidents WHERE id = :i", i=inc["id"])
    for _ in range(len(path) - 1):
        await _dialog(page, "#act-escalate", {"#dlg-reason": "超出社区处置能力"}, "#dlg-escalate-submit")
    await page.click("#act-escalate")
    await page.fill("#dlg-reason", "再上报")
    await page.click("#dlg-escalate-submit")
    await page.wait_for_selector("#dlg-escalate .form-error:not([hidden])", timeout=10000)
    assert "top level" in await page.text_content("#dlg-escalate .form-error")
    await page.wait_for_selector("#toast.error:not([hidden])")
    await save_screenshot(page, "console-dialog-escalate-refused-1920x1080.png")
    await page.click("#dlg-escalate-cancel")
    # 挂账, then 作废: each button only where the lifecycle allows it.
    await _dialog(page, "#act-suspend", {"#dlg-reason": "等待道路改造"}, "#dlg-suspend-submit")
    await _status(page, "suspended")
    assert await page.locator("#act-suspend").count() == 0
    await _dialog(page, "#act-cancel", {"#dlg-reason": "改造工程已覆盖"}, "#dlg-cancel-submit")
    await _status(page, "cancelled")
    assert await page.locator("#act-cancel, #act-escalate, #act-supervise").count() == 0
    events = await _events(app, inc["id"])
    escalated = [r for k, a, r in events if k == "incident.escalated" and a == "operator"]
    assert escalated == ["超出社区处置能力"] * (len(path) - 1)
    for kind, reason in (("supervision.raised", "涉及行人安全"), ("incident.suspended", "等待道路改造"),
                         ("incident.cancelled", "改造工程已覆盖")):
        assert (kind, "operator", reason) in events


async def test_a_supervisor_grants_and_refuses_extensions(app: App, browser: Browser) -> None:
    dept = await _liaison(app, "l-power")
    inc = await _alert(app, STREET1, "public_facilities", "配电箱外壳破损")
    r = await app.call("POST", f"/api/v1/incidents/{inc['id']}/departments", "operator", json={"lead": dept})
    assert r.status_code == 201, r.text
    order_id = r.json()["orders"][0]["id"]
    assert (await app.call("POST", f"/api/v1/dept/orders/{order_id}/sign", "l-power")).status_code == 200

    async def ask(days: int) -> None:
        due = (datetime.now(UTC) + timedelta(days=days)).isoformat()
        r = await app.call("POST", f"/api/v1/dept/orders/{order_id}/extensions", "l-power",
                           json={"reason": "等待配件", "due_at": due})
        assert r.status_code in (200, 201), r.text

    page = await open_page(browser, app, "/console", username="supervisor")
    try:
        await page.wait_for_function("() => window.gridcmd.console && window.gridcmd.console.ready", timeout=60000)
        await ask(10)
        await _select(page, inc["id"])
        await page.wait_for_selector("#extensions button[id^=act-grant-]", timeout=10000)
        await page.click("#extensions button[id^=act-grant-]")
        await page.wait_for_selector("#extensions", state="detached", timeout=10000)
        await ask(20)
        await page.evaluate("() => window.gridcmd.console.detail.refreshSoon()")
        await page.wait_for_selector("#extensions button[id^=act-refuse-]", timeout=10000)
        await _dialog(page, "#extensions button[id^=act-refuse-]", {"#dlg-reason": "配件可从仓库调拨"},
                      "#dlg-refuse-submit")
        await page.wait_for_selector("#extensions", state="detached", timeout=10000)
        assert page.errors == []  # type: ignore[attr-defined]
    finally:
        await page.context.close()
    events = await _events(app, inc["id"], "supervisor")
    assert any(k == "order.extended" and a == "supervisor" for k, a, _ in events), events
    assert ("order.extension_refused", "supervisor", "配件可从仓库调拨") in events


async def test_statistics_and_ledger_from_the_console(app: App, console: Page) -> None:
    page = console
    await page.click("#open-stats")
    await page.wait_for_selector("#stats-table tr:nth-child(2)", timeout=10000)
    assert "合计" in await page.text_content("#stats-table")
    await save_screenshot(page, "console-dialog-stats-1920x1080.png")
    async with page.expect_download() as xlsx:
        await page.click("#ledger-xlsx")
    saved = Path(await (await xlsx.value).path())
    assert (await asyncio.to_thread(saved.read_bytes))[:2] == b"PK"  # a zip: the XLSX
    async with page.expect_download() as csv:
        await page.click("#ledger-csv")
    assert (await csv.value).suggested_filename.endswith(".csv")
    await page.click("#stats-close")


async def test_the_action_panel_in_english(app: App, browser: Browser) -> None:
    inc = await _alert(app, STREET1, "public_facilities", "Street light out")
    page = await open_page(browser, app, "/console", lang="en")
    try:
        await page.wait_for_function("() => window.gridcmd.console && window.gridcmd.console.ready", timeout=60000)
        await _select(page, inc["id"])
        assert await page.text_content("#act-escalate") == "Escalate"
        assert await page.text_content("#act-suspend") == "Suspend"
        await page.click("#act-departments")
        await page.wait_for_selector("#dlg-departments[open]")
        assert await page.text_content("#dlg-departments h2") == "Send to departments"
        await save_screenshot(page, "console-dialog-departments-en-1920x1080.png")
        await page.click("#dlg-departments-cancel")
        assert page.errors == []  # type: ignore[attr-defined]
    finally:
        await page.context.close()
