"""The admin console's API (/api/v1/admin/...): accounts with grid-worker details and a sheet import (all or
nothing), departments, categories and routing rules, deadline rules in working days or hours, the calendar and its
overrides, region files checked, previewed and applied, the audit log with filters and exports; a region admin
only inside their region; every refusal changes nothing. Real PostgreSQL/PostGIS and Redis, the app in-process."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from command.core.errors import Forbidden
from command.core.models import AuditEntry, Deadline, Order, User, Worker
from command.core.settings import Settings
from command.deadlines.deadlines import adopt
from command.deadlines.workdays import NATIONAL
from geo.models import Region
from tests import loop_world as w
from tests.admin.admin_world import GRIDS, INSIDE, STREET, WORKER_ROWS, street_file, xlsx
from tests.helpers import login

A = "/api/v1/admin"


async def _count(app: w.LoopApp, model: type) -> int:
    async with app.sessionmaker() as s:  # type: ignore[operator]
        return int(await s.scalar(select(func.count()).select_from(model)))


async def _region_admin(app: w.LoopApp, name: str, region: str) -> dict[str, str]:
    async with app.sessionmaker() as s, s.begin():  # type: ignore[operator]
        s.add(User(username=name, display_name=name, role="admin", region_code=region,
                   password_hash=w._password_hash()))
    return await app.as_(name)


async def test_accounts_create_edit_reset_import_and_audit(clean_db: AsyncEngine, settings: Settings) -> None:
    async with w.loop_app(clean_db, settings) as app:
        c, admin = app.client, await app.as_("admin")
        body = {"username": "g1", "password": "secret-pw", "role": "worker", "display_name": "赵网格员",
                "phone": "13900000000", "worker": {"kind": "micro", "grid_codes": ["D1S1C1G1"], "max_load": 2,
                                                   "shift_start": "08:00", "shift_end": "18:00"}}
        # refusals first: nothing written by any of them
        users = await _count(app, User)
        for bad, status in (({**body, "worker": {**body["worker"], "grid_codes": ["NOPE"]}}, 422),
                            ({**body, "worker": {**body["worker"], "grid_codes": ["D1S1"]}}, 422),  # a street
                            ({**body, "worker": {**body["worker"], "kind": "boss"}}, 422),
                            ({**body, "worker": None}, 422),
                            ({**body, "password": "123"}, 422),
                            ({**body, "username": "w1"}, 409),
                            ({**body, "extra": 1}, 422)):
            r = await c.post(f"{A}/users", headers=admin, json=bad)
            assert r.status_code == status, (bad, r.text)
        r = await c.post(f"{A}/users", headers=await app.as_("op1"), json=body)
        assert r.status_code == 403
        assert await _count(app, User) == users and await _count(app, AuditEntry) == 0

        r = await c.post(f"{A}/users", headers=admin, json=body)
        assert r.status_code == 201, r.text
        made = r.json()
        assert made["worker"]["kind_zh"] == "微网格员" and made["region_code"] == "D1S1C1G1"
        r = await c.patch(f"{A}/users/{made['id']}", headers=admin,
                          json={"phone": "13911111111", "worker": {**body["worker"], "kind": "leader",
                                                                    "max_load": 4}})
        assert r.status_code == 200 and r.json()["worker"]["max_load"] == 4, r.text
        assert (await c.post(f"{A}/users/{made['id']}/password", headers=admin,
                             json={"password": "new-secret"})).status_code == 200
        assert (await c.post(f"{A}/users/{made['id']}/disable", headers=admin)).status_code == 200
        r = await c.get(f"{A}/audit", headers=admin, params={"entity": "user", "entity_id": str(made["id"])})
        entries = r.json()["entries"]
        assert [e["action"] for e in entries] == ["disable", "reset_password", "edit", "create"]
        edit = entries[2]
        assert edit["before"]["worker"]["kind"] == "micro" and edit["after"]["worker"]["kind"] == "leader"
        assert edit["before"]["phone"] == "13900000000" and edit["after"]["phone"] == "13911111111"
        assert edit["actor"] == "admin" and "new-secret" not in str(entries[1])
        assert entries[0]["before"]["active"] is True and entries[0]["after"]["active"] is False

        # Sheet import: one bad row → 422 with the per-row report and nothing written.
        rows = [*WORKER_ROWS[:1], ("ok_one", "secret-pw", "甲", "", "worker", "专职网格员", "D1S1C1G1", 2, ""),
                ("bad_two", "secret-pw", "乙", "", "worker", "专职网格员", "NOPE", 2, ""),
                ("ok_one", "secret-pw", "丙", "", "worker", "专职网格员", "D1S1C1G1", 2, "")]
        users = await _count(app, User)
        r = await c.post(f"{A}/users/import", headers=admin, files={"file": ("w.xlsx", xlsx(rows))})
        assert r.status_code == 422, r.text
        report = r.json()["error"]["details"]
        assert [(x["row"], x["ok"]) for x in report["rows"]] == [(2, True), (3, False), (4, False)]
        assert "NOPE" in report["rows"][1]["error"] and "twice" in report["rows"][2]["error"]
        assert await _count(app, User) == users
        r = await c.post(f"{A}/users/import", headers=admin, files={"file": ("w.xlsx", b"not a workbook")})
        assert r.status_code == 422
        sheet = "用户名,密码,姓名,网格员类型,网格,值班时间\nc_one,secret-pw,甲,兼职网格员,D1S1C1G1,07:30-16:00\n" \
                "c_two,,乙,专职网格员,D1S1C1G1,\n"
        r = await c.post(f"{A}/users/import", headers=admin, files={"file": ("w.csv", sheet.encode("utf-8-sig"))})
        assert r.status_code == 200 and r.json()["written"], r.text
        assert r.json()["rows"][0]["initial_password"] is None and len(r.json()["rows"][1]["initial_password"]) >= 6
        async with app.sessionmaker() as s:  # type: ignore[operator]
            kinds = dict((await s.execute(select(User.username, Worker.kind).join(
                Worker, Worker.user_id == User.id).where(User.username.in_(["c_one", "c_two"])))).all())
        assert kinds == {"c_one": "parttime", "c_two": "fulltime"}

        # Exports carry the same entries.
        r = await c.get(f"{A}/audit/export", headers=admin, params={"format": "csv", "entity": "user"})
        lines = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
        assert lines[0][:3] == ["id", "at", "actor"] and len(lines) == 1 + 4 + 2
        r = await c.get(f"{A}/audit/export", headers=admin, params={"format": "xlsx", "action": "import"})
        sheet_rows = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
        assert len(sheet_rows) == 3 and sheet_rows[1][3] == "import"
        assert (await c.get(f"{A}/audit", headers=admin, params={"since": "yesterday"})).status_code == 422


async def test_region_admin_stays_inside_their_region(clean_db: AsyncEngine, settings: Settings) -> None:
    async with w.loop_app(clean_db, settings) as app:
        c = app.client
        ra = await _region_admin(app, "ra", "D1S1")
        worker = {"kind": "fulltime", "grid_codes": ["D2S1C1G1"]}
        r = await c.post(f"{A}/users", headers=ra, json={"username": "x", "password": "secret-pw", "role": "worker",
                                                         "worker": worker})
        assert r.status_code == 403, r.text
        r = await c.post(f"{A}/users", headers=ra, json={"username": "x", "password": "secret-pw", "role": "worker",
                                                         "worker": {**worker, "grid_codes": ["D1S1C1G1"]}})
        assert r.status_code == 201, r.text
        seen = {u["username"] for u in (await c.get(f"{A}/users", headers=ra)).json()["users"]}
        assert seen == {"ra", "w1", "x"}
        op2 = app.world.users["op2"]
        assert (await c.post(f"{A}/users/{op2}/disable", headers=ra)).status_code == 403
        assert (await c.put(f"{A}/categories/road", headers=ra, json={"default_priority": 1})).status_code == 403
        dept = {"name": "街道城管", "kind": "city", "region_code": "D2S1"}
        assert (await c.put(f"{A}/departments/cg", headers=ra, json=dept)).status_code == 403
        assert (await c.put(f"{A}/departments/cg", headers=ra, json={**dept, "region_code": "D1S1"})).status_code == 200
        r = await c.put(f"{A}/calendar/overrides", headers=ra, json={"day": "2026-10-09", "workday": False})
        assert r.status_code == 403  # installation-wide: not a region admin's
        r = await c.put(f"{A}/calendar/overrides", headers=ra,
                        json={"day": "2026-10-09", "workday": False, "region_code": "D1S1"})
        assert r.status_code == 200
        mine = {e["entity"] for e in (await c.get(f"{A}/audit", headers=ra)).json()["entries"]}
        assert mine == {"user", "department", "calendar_override"}
        r = await c.post(f"{A}/regions/check", headers=ra, files={"file": ("s.geojson", street_file())})
        assert r.status_code == 403, r.text


async def test_a_region_admin_sees_and_acts_only_inside_their_region_beyond_admin(
        clean_db: AsyncEngine, settings: Settings) -> None:
    """The same limit as /admin on the closed loop's reads and actions and on the wall's socket scope; an admin
    without a region still sees everything."""
    from command.core.security import Principal
    from command.realtime.stream_scope import resolve_scope

    async with w.loop_app(clean_db, settings) as app:
        c = app.client
        async with app.sessionmaker() as s, s.begin():  # type: ignore[operator]
            inside = await w.incident(s, grid="D1S1C1G1")
            outside = await w.incident(s, grid="D2S1C1G1")
        ra = await _region_admin(app, "ra", "D1S1")
        listed = {i["id"] for i in (await c.get("/api/v1/incidents", headers=ra)).json()["items"]}
        assert listed == {inside.id}
        assert (await c.get(f"/api/v1/incidents/{inside.id}", headers=ra)).status_code == 200
        r = await c.get(f"/api/v1/incidents/{outside.id}", headers=ra)
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden", r.text
        r = await c.post(f"/api/v1/incidents/{outside.id}/dispatch", headers=ra, json={"worker_id": 1})
        assert r.status_code == 403, r.text
        top_admin = await app.as_("admin")
        everything = {i["id"] for i in (await c.get("/api/v1/incidents", headers=top_admin)).json()["items"]}
        assert everything == {inside.id, outside.id}
        async with app.sessionmaker() as s:  # type: ignore[operator]
            me = Principal(user_id=0, username="ra", role="admin", region_code="D1S1")
            assert (await resolve_scope(s, principal=me, region=None)).region == "D1S1"
            assert (await resolve_scope(s, principal=me, region="D1S1C1")).region == "D1S1C1"
            with pytest.raises(Forbidden):
                await resolve_scope(s, principal=me, region="D2")
            top = Principal(user_id=0, username="admin", role="admin", region_code=None)
            assert (await resolve_scope(s, principal=top, region=None)).everything


async def test_reference_limits_calendar(clean_db: AsyncEngine, settings: Settings) -> None:
    async with w.loop_app(clean_db, settings) as app:
        c, admin = app.client, await app.as_("admin")
        r = await c.put(f"{A}/departments/water_co", headers=admin,
                        json={"name": "自来水公司", "kind": "water", "region_code": "D1", "region_codes": ["D2"],
                              "phone": "0571-1234567"})
        assert r.status_code == 200 and r.json()["region_codes"] == ["D2"]
        liaisons = {d["code"]: d["liaisons"] for d in (await c.get(f"{A}/departments", headers=admin)).json()[
            "departments"]}
        assert [x["username"] for x in liaisons["water_co"]] == ["water"]
        assert (await c.put(f"{A}/departments/x", headers=admin,
                            json={"name": "x", "kind": "k", "region_code": "NOPE"})).status_code == 422
        assert (await c.put(f"{A}/categories/newcat", headers=admin, json={"name_zh": "新"})).status_code == 422
        r = await c.put(f"{A}/categories/newcat", headers=admin, json={"name_zh": "新类", "name_en": "New",
                                                                        "default_priority": 2})
        assert r.status_code == 200 and r.json()["default_priority"] == 2
        rule = {"category_code": "newcat", "region_code": "D1S1", "department_kinds": ["water"],
                "workers_needed": 0, "ack_timeout_s": 120}
        r = await c.put(f"{A}/routing-rules", headers=admin, json=rule)
        assert r.status_code == 200 and r.json()["workers_needed"] == 0
        r = await c.put(f"{A}/routing-rules", headers=admin, json={**rule, "workers_needed": 2})
        audit = (await c.get(f"{A}/audit", headers=admin, params={"entity": "routing_rule"})).json()["entries"]
        assert audit[0]["before"]["workers_needed"] == 0 and audit[0]["after"]["workers_needed"] == 2
        assert (await c.put(f"{A}/routing-rules", headers=admin,
                            json={**rule, "category_code": "nope"})).status_code == 422
        # Deadline rules: exactly one of working days, hours, same day.
        for bad in ({"kind": "resolve"}, {"kind": "resolve", "limit_workdays": 3, "limit_hours": 4},
                    {"kind": "resolve", "limit_workdays": 0}, {"kind": "resolve", "limit_workdays": 3,
                                                                "region_code": "NOPE"}):
            assert (await c.post(f"{A}/deadline-rules", headers=admin, json=bad)).status_code == 422, bad
        r = await c.post(f"{A}/deadline-rules", headers=admin,
                         json={"kind": "resolve", "category_code": "newcat", "region_code": "D1", "limit_workdays": 3})
        assert r.status_code == 201 and r.json()["limit_workdays"] == 3
        r = await c.post(f"{A}/deadline-rules", headers=admin, json={"kind": "sign_for", "limit_hours": 1.5})
        assert r.json()["limit_s"] == 5400
        assert (await c.delete(f"{A}/deadline-rules/{r.json()['id']}", headers=admin)).status_code == 204
        assert (await c.delete(f"{A}/deadline-rules/{r.json()['id']}", headers=admin)).status_code == 404
        rule_id = audit[0]["entity_id"]
        assert (await c.delete(f"{A}/routing-rules/{rule_id}", headers=admin)).status_code == 204
        assert (await c.delete(f"{A}/routing-rules/{rule_id}", headers=admin)).status_code == 404
        deleted = (await c.get(f"{A}/audit", headers=admin, params={"action": "delete"})).json()["entries"]
        assert {(e["entity"], e["after"]) for e in deleted} == {("routing_rule", None), ("deadline_rule", None)}
        # The calendar in force: National Day 2026 with the 调休 Saturday, then a local override.
        r = await c.get(f"{A}/calendar", headers=admin, params={"year": 2026, "month": 10})
        days = {d["day"]: d for d in r.json()["days"]}
        assert days["2026-10-01"]["source"] == "holiday" and days["2026-10-10"]["source"] == "adjusted"
        r = await c.put(f"{A}/calendar/overrides", headers=admin,
                        json={"day": "2026-10-12", "workday": False, "region_code": "D1", "note": "区运动会"})
        oid = r.json()["id"]
        r = await c.get(f"{A}/calendar", headers=admin, params={"year": 2026, "month": 10, "region": "D1S1"})
        assert {d["day"]: d["source"] for d in r.json()["days"]}["2026-10-12"] == "override"
        assert [o["id"] for o in r.json()["overrides"]] == [oid]
        assert (await c.get(f"{A}/calendar", headers=admin, params={"year": 2026, "month": 13})).status_code == 422
        assert (await c.delete(f"{A}/calendar/overrides/{oid}", headers=admin)).status_code == 204
        assert (await c.delete(f"{A}/calendar/overrides/{oid}", headers=admin)).status_code == 404


async def test_routing_rule_priority_round_trips_and_is_checked(clean_db: AsyncEngine, settings: Settings) -> None:
    """A rule's priority (1-4, null: the category's default) is saved, listed and audited; anything else is a 422
    that changes nothing."""
    async with w.loop_app(clean_db, settings) as app:
        c, admin = app.client, await app.as_("admin")
        await c.put(f"{A}/categories/newcat", headers=admin, json={"name_zh": "新类", "name_en": "New"})
        rule = {"category_code": "newcat", "region_code": "D1S1", "priority": 2}
        r = await c.put(f"{A}/routing-rules", headers=admin, json=rule)
        assert r.status_code == 200 and r.json()["priority"] == 2
        listed = (await c.get(f"{A}/routing-rules", headers=admin)).json()["rules"]
        assert [x["priority"] for x in listed if x["category_code"] == "newcat"] == [2]
        audits = await _count(app, AuditEntry)
        for bad in (0, 5, "x", "2", 2.5, True):
            r = await c.put(f"{A}/routing-rules", headers=admin, json={**rule, "priority": bad})
            assert r.status_code == 422, bad
        listed = (await c.get(f"{A}/routing-rules", headers=admin)).json()["rules"]
        assert [x["priority"] for x in listed if x["category_code"] == "newcat"] == [2]
        assert await _count(app, AuditEntry) == audits
        r = await c.put(f"{A}/routing-rules", headers=admin, json={**rule, "priority": None})
        assert r.status_code == 200 and r.json()["priority"] is None
        audit = (await c.get(f"{A}/audit", headers=admin, params={"entity": "routing_rule"})).json()["entries"]
        assert (audit[0]["before"]["priority"], audit[0]["after"]["priority"]) == (2, None)
        assert audit[1]["after"]["priority"] == 2


async def test_region_file_check_preview_apply_then_alert_dispatch(clean_db: AsyncEngine, settings: Settings, redis
                                                                   ) -> None:
    async with w.loop_app(clean_db, settings) as app:
        c, admin = app.client, await app.as_("admin")
        regions = await _count(app, Region)
        # One bad feature: the report names it, apply refuses, nothing is written.
        r = await c.post(f"{A}/regions/check", headers=admin, files={"file": ("s.geojson", street_file(bad=True))})
        assert r.status_code == 200 and not r.json()["report"]["ok"]
        assert [p["feature"] for p in r.json()["report"]["problems"]] == [3]
        bad_sha = r.json()["sha256"]
        r = await c.post(f"{A}/regions/apply", headers=admin, data={"sha256": bad_sha},
                         files={"file": ("s.geojson", street_file(bad=True))})
        assert r.status_code == 422 and await _count(app, Region) == regions
        # A good file: report and preview first.
        r = await c.post(f"{A}/regions/check", headers=admin, files={"file": ("s.geojson", street_file())})
        body = r.json()
        assert body["report"]["ok"] and body["report"]["new"] == 4
        assert {f["properties"]["code"]: f["properties"]["status"] for f in body["preview"]["features"]} == {
            STREET: "added", "D2S9C1": "added", GRIDS[0]: "added", GRIDS[1]: "added"}
        r = await c.post(f"{A}/regions/apply", headers=admin, data={"sha256": bad_sha},
                         files={"file": ("s.geojson", street_file())})
        assert r.status_code == 409 and await _count(app, Region) == regions
        assert (await c.post(f"{A}/regions/check", headers=admin,
                             files={"file": ("s.txt", b"x")})).status_code == 422
        r = await c.post(f"{A}/regions/apply", headers=admin, data={"sha256": body["sha256"], "progress_id": "x"},
                         files={"file": ("s.geojson", street_file())})
        assert r.status_code == 422 and await _count(app, Region) == regions  # a malformed progress id
        assert (await c.get(f"{A}/regions/progress/run-0001", headers=admin)).json() == {"done": 0, "total": 0}
        r = await c.post(f"{A}/regions/apply", headers=admin, data={"sha256": body["sha256"],
                                                                    "progress_id": "run-0001"},
                         files={"file": ("s.geojson", street_file())})
        assert r.status_code == 200 and r.json()["inserted"] == 4, r.text
        assert (await c.get(f"{A}/regions/progress/run-0001", headers=admin)).json() == {"done": 4, "total": 4}
        assert await _count(app, Region) == regions + 4
        r = await c.post(f"{A}/regions/check", headers=admin, files={"file": ("s.geojson", street_file())})
        assert {f["properties"]["status"] for f in r.json()["preview"]["features"]} == {"unchanged"}

        # Its department, category, routing and deadline rules, and workers from a sheet: all through the API.
        r = await c.put(f"{A}/departments/xh_city", headers=admin,
                        json={"name": "新河城管中队", "kind": "city", "region_code": STREET, "phone": "0571-7777"})
        assert r.status_code == 200
        await c.put(f"{A}/categories/xh_litter", headers=admin,
                    json={"name_zh": "乱堆乱放", "name_en": "Litter", "default_priority": 3})
        await c.put(f"{A}/routing-rules", headers=admin, json={
            "category_code": "xh_litter", "region_code": STREET, "department_kinds": ["city"], "workers_needed": 1,
            "ack_timeout_s": 90})
        await c.post(f"{A}/deadline-rules", headers=admin, json={
            "kind": "resolve", "category_code": "xh_litter", "region_code": STREET, "limit_workdays": 2})
        await c.post(f"{A}/deadline-rules", headers=admin, json={
            "kind": "sign_for", "category_code": "xh_litter", "region_code": STREET, "limit_hours": 2})
        r = await c.post(f"{A}/users/import", headers=admin, files={"file": ("w.xlsx", xlsx(WORKER_ROWS))})
        assert r.status_code == 200 and r.json()["written"], r.text
        # The grid leader reports a position inside the new grid; an alert there goes to them and the department.
        leader = await login(c, "xh_leader", "secret-pw")
        assert (await c.post("/api/v1/workers/me/position", headers=leader,
                             json={"lon": INSIDE[0], "lat": INSIDE[1]})).status_code == 200
        for _ in range(100):  # registered in Redis by the first report: wait until the console sees them there
            live = (await c.get("/api/v1/workers", headers=admin, params={"region": GRIDS[0]})).json()["items"]
            if any(x["present"] and x["availability"] == "available" and x["lon"] for x in live):
                break
            await asyncio.sleep(0.05)
        r = await c.post("/api/v1/alerts", headers=await app.as_("admin"), json={
            "category": "xh_litter", "description": "路口乱堆建筑垃圾", "lon": INSIDE[0], "lat": INSIDE[1],
            "channel": "hotline"})
        assert r.status_code == 201, r.text
        alert = r.json()
        assert alert["region_code"] == GRIDS[0], alert
        assert alert["status"] == "dispatched", alert
        depts = [o["department_code"] for o in alert["orders"] if o["assignee_kind"] == "department"]
        workers = [o["worker_id"] for o in alert["orders"] if o["assignee_kind"] == "worker"]
        async with app.sessionmaker() as s, s.begin():  # type: ignore[operator]
            await adopt(s, tz=ZoneInfo(settings.timezone), batch=100)  # the scheduler's pass: the order's limits
        async with app.sessionmaker() as s:  # type: ignore[operator]
            leader_id = await s.scalar(select(Worker.id).join(User, User.id == Worker.user_id).where(
                User.username == "xh_leader"))
            dues = dict((await s.execute(select(Deadline.kind, Deadline.due_at).where(
                Deadline.incident_id == alert["id"], Deadline.order_id.is_(None)))).all())
            sign = await s.scalar(select(Order.ack_due_at).where(Order.incident_id == alert["id"],
                                                                 Order.assignee_kind == "department"))
        assert depts == ["xh_city"] and workers == [leader_id], json.dumps([alert, live], ensure_ascii=False)
        created = datetime.fromisoformat(alert["created_at"]).astimezone(UTC)
        assert abs((sign - created).total_seconds() - 2 * 3600) < 5  # from the order, made just after
        assert dues["resolve"] == NATIONAL.add_workdays(created, 2, ZoneInfo(settings.timezone))
