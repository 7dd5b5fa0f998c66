"""/admin in headless Chromium against a real server, PostgreSQL/PostGIS and Redis with the demo city: an
administrator, only through the page, imports a new street's regions (report and map preview first; a file with
one bad feature changes nothing), creates its department, category, routing and deadline rules, and its grid workers
from an XLSX; an alert posted inside the new street is dispatched to those workers and that department with those
deadlines. Screenshots of every tab at 1920×1080."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from playwright.async_api import Browser, Page

from command.core.db import make_sessionmaker
from command.deadlines.deadlines import adopt
from command.deadlines.workdays import NATIONAL
from tests.admin.admin_world import xlsx
from tests.browser_kit import App, foreign_requests, open_page, save_screenshot
from tests.procs import free_port

PORT = free_port()
TZ = ZoneInfo("Asia/Shanghai")
STREET, COMMUNITY = "320102099", "320102099001"
GRIDS = ("320102099001001", "320102099001002")
INSIDE = (118.905, 32.045)  # east of the demo district, in the first new grid


def _box(x0: float, y0: float, x1: float, y1: float) -> list:
    return [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]


def street_file(*, bad: bool = False) -> bytes:
    def feature(code: str, name: str, level: str, parent: str, box: tuple) -> dict:
        return {"type": "Feature", "properties": {"code": code, "name": name, "level": level, "parent_code": parent},
                "geometry": {"type": "Polygon", "coordinates": _box(*box)}}

    features = [feature(STREET, "新河街道", "street", "320102", (118.88, 32.02, 118.94, 32.08)),
                feature(COMMUNITY, "新河社区", "community", STREET, (118.88, 32.02, 118.94, 32.08)),
                feature(GRIDS[0], "新河一网格", "grid", COMMUNITY, (118.88, 32.02, 118.92, 32.08)),
                feature(GRIDS[1], "新河二网格", "grid", COMMUNITY, (118.92, 32.02, 118.94, 32.08))]
    if bad:  # one ring of two points: not a polygon
        features[3]["geometry"]["coordinates"] = [[[118.92, 32.02], [118.94, 32.02]]]
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False).encode()


SHEET = [("用户名", "密码", "姓名", "电话", "角色", "网格员类型", "网格", "最大负载", "值班时间"),
         ("xh_leader", "demo1234", "张网格长", "13800000001", "worker", "网格长", GRIDS[0], 3, "08:00-20:00"),
         ("xh_micro", "demo1234", "李微网格员", "13800000002", "worker", "微网格员", GRIDS[0], 1, "09:00-17:00"),
         ("xh_part", "demo1234", "王兼职", "13800000003", "worker", "兼职网格员", GRIDS[1], 2, "")]


async def _count(app: App, table: str) -> int:
    ((n,),) = await app.sql(f"SELECT count(*) FROM {table}")
    return int(n)


async def _tab(page: Page, name: str) -> None:
    await page.click(f"#tab-{name}")
    await page.wait_for_selector(f"#panel[data-tab={name}]")


async def _fill(page: Page, form: str, values: dict[str, str]) -> None:
    for name, value in values.items():
        sel = f"{form} [name={name}]"
        if await page.eval_on_selector(sel, "el => el.tagName") == "SELECT":
            await page.select_option(sel, value)
        else:
            await page.fill(sel, value)


async def _upload_regions(page: Page, data: bytes) -> None:
    await page.set_input_files("#region-file", {"name": "新河街道.geojson", "mimeType": "application/geo+json",
                                                 "buffer": data})
    await page.click("#region-check")
    await page.wait_for_selector("#region-verdict")


async def test_an_admin_sets_up_a_new_street_only_through_admin(app: App, browser: Browser) -> None:
    page = await open_page(browser, app, "/admin#regions", username="admin")
    await page.wait_for_selector("#panel[data-tab=regions]")
    regions = await _count(app, "regions")

    # A file with one bad feature: the report names it, nothing can be applied, nothing changes.
    await _upload_regions(page, street_file(bad=True))
    assert "bad-text" in (await page.get_attribute("#region-verdict", "class") or "")
    assert "#3" in await page.inner_text("#region-report")
    assert await page.is_disabled("#region-apply")
    await save_screenshot(page, "admin-regions-refused.png")
    assert await _count(app, "regions") == regions

    # The good file: report, preview on the map over the current regions, then apply with progress.
    await _upload_regions(page, street_file())
    assert "ok-text" in (await page.get_attribute("#region-verdict", "class") or "")
    await page.wait_for_function("() => document.querySelectorAll('#region-report tr').length >= 5")
    await page.wait_for_timeout(1500)  # the map draws the preview
    await save_screenshot(page, "admin-regions-preview.png")
    assert await _count(app, "regions") == regions
    await page.click("#region-apply")
    await page.wait_for_selector("#region-applied", timeout=30000)
    assert await _count(app, "regions") == regions + 4

    # Department, category, routing rule, deadline rules.
    await _tab(page, "departments")
    await _fill(page, "#department-form", {"code": "xh_city", "name": "新河街道城管中队", "kind": "xh_city",
                                           "region_code": STREET, "phone": "025-88880000"})
    await page.click("#department-save")
    await page.wait_for_selector("[data-dept=xh_city]")
    await save_screenshot(page, "admin-departments.png")
    await _tab(page, "routing")
    await _fill(page, "#category-form", {"code": "xh_litter", "name_zh": "乱堆乱放", "name_en": "Litter",
                                         "default_priority": "3"})
    await page.click("#category-save")
    await page.wait_for_function("() => document.querySelector('#categories').innerText.includes('xh_litter')")
    await _fill(page, "#routing-form", {"category_code": "xh_litter", "region_code": STREET,
                                        "department_kinds": "xh_city", "workers_needed": "1", "ack_timeout_s": "90",
                                        "priority": "2"})
    await page.click("#routing-save")
    await page.wait_for_function("() => document.querySelector('#routing').innerText.includes('xh_city')")
    await save_screenshot(page, "admin-routing.png")
    await _tab(page, "deadlines")
    await _fill(page, "#deadline-form", {"kind": "resolve", "category_code": "xh_litter", "region_code": STREET,
                                         "unit": "workdays", "amount": "2"})
    await page.click("#deadline-save")
    await page.wait_for_function("() => document.querySelectorAll('#deadline-rules tbody tr').length >= 1")
    await _fill(page, "#deadline-form", {"kind": "sign_for", "unit": "hours", "amount": "2"})
    await page.click("#deadline-save")
    await page.wait_for_function("() => document.querySelectorAll('#deadline-rules tbody tr').length >= 2")
    await save_screenshot(page, "admin-deadlines.png")

    # Grid workers from an XLSX.
    await _tab(page, "accounts")
    await page.set_input_files("#import-file", {"name": "新河网格员.xlsx", "buffer": xlsx(SHEET),
                                                "mimeType": "application/vnd.openxmlformats-officedocument."
                                                            "spreadsheetml.sheet"})
    await page.click("#import-run")
    await page.wait_for_function("() => document.querySelector('#import-report').innerText.includes('3')")
    await page.fill("#acc-search", "xh_")
    await page.wait_for_selector("[data-user=xh_leader]")
    await save_screenshot(page, "admin-accounts.png")
    rows = await app.sql("SELECT u.username, w.kind, w.grid_codes FROM users u JOIN workers w ON w.user_id = u.id "
                         "WHERE u.username LIKE 'xh_%' ORDER BY u.username")
    assert [(r[0], r[1]) for r in rows] == [("xh_leader", "leader"), ("xh_micro", "micro"), ("xh_part", "parttime")]

    # The calendar in force and the audit log.
    await _tab(page, "calendar")
    await page.fill("#cal-year", "2026")
    await page.select_option("#cal-month", "10")
    await page.wait_for_selector("[data-day='2026-10-10'].adjusted")
    await save_screenshot(page, "admin-calendar.png")
    await _tab(page, "audit")
    await page.wait_for_function("() => document.querySelectorAll('#audit tbody tr').length >= 9")
    await save_screenshot(page, "admin-audit.png")

    # An alert inside the new street goes to its worker and department with its deadlines.
    await app.call("POST", "/api/v1/workers/me/position", "xh_leader", json={"lon": INSIDE[0], "lat": INSIDE[1]})
    alert = await app.alert(category="xh_litter", description="路口乱堆建筑垃圾", lon=INSIDE[0], lat=INSIDE[1])
    assert alert["region_code"] == GRIDS[0], alert
    assert alert["priority"] == 2  # the street's rule, over the category's P3
    ((leader_id,),) = await app.sql("SELECT w.id FROM workers w JOIN users u ON u.id = w.user_id "
                                    "WHERE u.username = 'xh_leader'")
    assert [o["department_code"] for o in alert["orders"] if o["assignee_kind"] == "department"] == ["xh_city"]
    assert [o["worker_id"] for o in alert["orders"] if o["assignee_kind"] == "worker"] == [leader_id], alert
    created = datetime.fromisoformat(alert["created_at"])
    ((resolve_due,),) = await app.sql("SELECT resolve_due_at FROM incidents WHERE id = :i", i=alert["id"])
    assert resolve_due == NATIONAL.add_workdays(created, 2, TZ)
    async with make_sessionmaker(app.engine)() as s, s.begin():
        await adopt(s, tz=TZ, batch=100)  # the scheduler's pass (not running in this server): the order's limits
    ((ack_due, order_created),) = await app.sql(
        "SELECT ack_due_at, created_at FROM orders WHERE incident_id = :i AND assignee_kind = 'department'",
        i=alert["id"])
    assert abs((ack_due - order_created).total_seconds() - 7200) < 1
    assert foreign_requests(page, app.base) == []
    assert page.errors == []  # type: ignore[attr-defined]
    await page.context.close()

    # English on request: the same console, the calendar in force named in English.
    page = await open_page(browser, app, "/admin?lang=en#calendar", username="admin")
    await page.wait_for_selector("#panel[data-tab=calendar] .a-day")
    assert await page.inner_text("#tab-calendar") == "Calendar"
    await save_screenshot(page, "admin-calendar-en.png")
    assert page.errors == []  # type: ignore[attr-defined]
    await page.context.close()
