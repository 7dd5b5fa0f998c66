"""The service catalogue (issue 15 item 3): the demo's 56 items, browsed and searched without login, one item's
materials, the XLSX export; bad input is a clear 4xx. Admins edit it (every change audited); a region admin only
reads it."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from command.core.db import make_sessionmaker
from command.core.models import Incident, ServiceItem, User
from command.demo.service_items import upsert_catalogue
from tests import loop_world as w
from tests.environment import make_test_settings

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
async def app(clean_db: AsyncEngine, redis):
    async with make_sessionmaker(clean_db)() as s, s.begin():
        assert await upsert_catalogue(s) == 56
        s.add(ServiceItem(code="X1", name="=HYPERLINK(\"http://x\")", group_name="公共服务", department="d",
                          level="community", item_type="answer", conditions="c", materials=["@m"], office="o",
                          address="a", hours="h", phone="1", online=False, offline=True))
        s.add(ServiceItem(code="X2", name="停用事项", group_name="公共服务", department="d", level="community",
                          item_type="answer", conditions="c", materials=[], office="o", address="a", hours="h",
                          phone="1", online=False, offline=True, active=False))
    async with w.loop_app(clean_db, make_test_settings()) as app:
        yield app


async def test_residents_browse_and_search_the_catalogue(app) -> None:
    c = app.client
    everything = (await c.get("/api/v1/public/catalogue")).json()
    assert everything["groups"] == ["行政审批", "公共服务", "证明服务", "社会服务"]
    assert len(everything["items"]) == 57 and "X2" not in {i["code"] for i in everything["items"]}
    proofs = (await c.get("/api/v1/public/catalogue", params={"group": "证明服务"})).json()["items"]
    assert len(proofs) == 5 and {i["group_name"] for i in proofs} == {"证明服务"}
    found = (await c.get("/api/v1/public/catalogue", params={"q": "低保"})).json()["items"]
    assert "S001" in {i["code"] for i in found}
    by_material = (await c.get("/api/v1/public/catalogue", params={"q": "出院小结"})).json()["items"]
    assert [i["name"] for i in by_material] == ["医疗救助申请"]
    one = (await c.get("/api/v1/public/catalogue/S001")).json()
    assert one["name"] == "最低生活保障申请" and one["item_type"] == "promise" and one["time_limit_days"] == 20
    assert "家庭收入及财产申报表" in one["materials"] and one["category_code"] == "subsistence_allowance"


@pytest.mark.parametrize(("path", "status"), [
    ("/api/v1/public/catalogue/S999", 404), ("/api/v1/public/catalogue/X2", 404),
    ("/api/v1/public/catalogue/a%20b", 422), ("/api/v1/public/catalogue?q=" + "x" * 65, 422),
    ("/api/v1/public/catalogue?q=%00", 422), ("/api/v1/catalogue.xlsx", 401),
])
async def test_bad_requests_are_clear_4xx(app, path: str, status: int) -> None:
    r = await app.client.get(path)
    assert r.status_code == status, r.text
    assert r.json()["error"]["message"]


async def test_operators_export_the_catalogue_as_xlsx(app) -> None:
    r = await app.client.get("/api/v1/catalogue.xlsx", headers=await app.as_("op1"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(r.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("编号", "类别", "事项名称") and len(rows) == 1 + 57
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["事项名称"] == "最低生活保障申请" and first["办理层级"] == "乡镇（街道）"
    assert first["事项类型"] == "承诺件"
    injected = next(r for r in rows if r[0] == "X1")
    assert injected[2].startswith("'=") and injected[7] == "'@m"  # never a formula
    assert (await app.client.get("/api/v1/catalogue.xlsx", headers=await app.as_("w1"))).status_code == 403


ITEM = {"name": "二孩生育登记", "group_name": "行政审批", "department": "区卫健委", "category_code": "noise",
        "level": "community", "item_type": "immediate", "conditions": "夫妻双方", "materials": ["身份证", "结婚证"],
        "office": "社区便民服务站", "address": "一楼", "hours": "工作日", "time_limit_days": None,
        "phone": "025-1234", "online": True, "offline": True}


async def test_admins_add_edit_and_withdraw_items(app) -> None:
    c, admin = app.client, await app.as_("admin")
    created = await c.put("/api/v1/admin/catalogue/N001", headers=admin, json=ITEM)
    assert created.status_code == 201, created.text
    edited = await c.put("/api/v1/admin/catalogue/N001", headers=admin, json=ITEM | {"time_limit_days": 3})
    assert edited.status_code == 200 and edited.json()["time_limit_days"] == 3
    assert (await c.get("/api/v1/public/catalogue/N001")).json()["materials"] == ["身份证", "结婚证"]
    assert (await c.delete("/api/v1/admin/catalogue/N001", headers=admin)).status_code == 204
    assert (await c.get("/api/v1/public/catalogue/N001")).status_code == 404
    assert (await c.delete("/api/v1/admin/catalogue/N001", headers=admin)).status_code == 404


@pytest.mark.parametrize(("user", "change", "status"), [
    ("admin", {"category_code": "nope"}, 422), ("admin", {"level": "province"}, 422),
    ("admin", {"name": " "}, 422), ("admin", {"time_limit_days": 0}, 422), ("admin", {"extra": 1}, 422),
    ("op1", {}, 403),
])
async def test_a_refused_edit_changes_nothing(app, user: str, change: dict, status: int) -> None:
    r = await app.client.put("/api/v1/admin/catalogue/S001", headers=await app.as_(user), json=ITEM | change)
    assert r.status_code == status, r.text
    assert (await app.client.get("/api/v1/public/catalogue/S001")).json()["name"] == "最低生活保障申请"


async def _audit(app, **params: str) -> list[dict]:
    r = await app.client.get("/api/v1/admin/audit", headers=await app.as_("admin"),
                             params={"entity": "service_item", **params})
    return r.json()["entries"]


async def test_every_catalogue_change_is_audited(app) -> None:
    c, admin = app.client, await app.as_("admin")
    assert (await c.put("/api/v1/admin/catalogue/N002", headers=admin, json=ITEM)).status_code == 201
    r = await c.put("/api/v1/admin/catalogue/N002", headers=admin, json=ITEM | {"materials": ["身份证", "户口簿"]})
    assert r.status_code == 200
    assert (await c.delete("/api/v1/admin/catalogue/N002", headers=admin)).status_code == 204
    # Withdrawn: off the public list, still on the admin's, with its state; saving publishes it again.
    listed = (await c.get("/api/v1/admin/catalogue", headers=admin, params={"q": "N002"})).json()
    assert listed["editable"] is True and [(i["code"], i["active"]) for i in listed["items"]] == [("N002", False)]
    assert (await c.get("/api/v1/public/catalogue/N002")).status_code == 404
    assert (await c.put("/api/v1/admin/catalogue/N002", headers=admin, json=ITEM)).status_code == 200
    assert (await c.get("/api/v1/public/catalogue/N002")).json()["materials"] == ["身份证", "结婚证"]
    entries = await _audit(app, entity_id="N002")
    assert [e["action"] for e in entries] == ["edit", "withdraw", "edit", "create"]  # newest first
    assert {e["actor"] for e in entries} == {"admin"} and all(e["at"] for e in entries)
    created, edited, withdrawn, republished = reversed(entries)
    assert created["before"] is None and created["after"]["materials"] == ["身份证", "结婚证"]
    assert edited["before"]["materials"] == ["身份证", "结婚证"]
    assert edited["after"]["materials"] == ["身份证", "户口簿"]
    assert withdrawn["before"]["active"] is True and withdrawn["after"]["active"] is False
    assert republished["before"]["active"] is False and republished["after"]["active"] is True


async def test_a_region_admin_reads_but_cannot_edit_the_catalogue(app) -> None:
    async with app.sessionmaker() as s, s.begin():
        s.add(User(username="ra", display_name="ra", role="admin", region_code="D1S1",
                   password_hash=w._password_hash()))
    c, ra = app.client, await app.as_("ra")
    listed = (await c.get("/api/v1/admin/catalogue", headers=ra)).json()
    assert listed["editable"] is False and "X2" in {i["code"] for i in listed["items"]}
    for r in (await c.put("/api/v1/admin/catalogue/S001", headers=ra, json=ITEM),
              await c.put("/api/v1/admin/catalogue/N003", headers=ra, json=ITEM),
              await c.delete("/api/v1/admin/catalogue/S001", headers=ra)):
        assert r.status_code == 403, r.text
        assert "district-wide" in r.json()["error"]["message"]
    assert (await c.get("/api/v1/public/catalogue/S001")).json()["name"] == "最低生活保障申请"
    assert (await c.get("/api/v1/public/catalogue/N003")).status_code == 404
    assert await _audit(app) == []


async def test_bad_input_is_a_422_with_field_details_and_no_audit_entry(app) -> None:
    admin = await app.as_("admin")
    for change, field in (({"category_code": "nope"}, "category_code"), ({"materials": ["身份证", ""]}, "materials"),
                          ({"phone": "1"}, "phone")):
        r = await app.client.put("/api/v1/admin/catalogue/S001", headers=admin, json=ITEM | change)
        assert r.status_code == 422, r.text
        assert field in r.json()["error"]["details"][0]["loc"], r.text
    r = await app.client.put("/api/v1/admin/catalogue/a%20b", headers=admin, json=ITEM)
    assert r.status_code == 422
    assert (await app.client.get("/api/v1/public/catalogue/S001")).json()["materials"][0] != "身份证"
    assert await _audit(app) == []


async def test_a_request_filed_from_an_item_names_it_and_a_wrong_item_changes_nothing(app) -> None:
    """The resident's guide and the hotline form send the item's code; the incident keeps it and the console's
    detail shows it. An unknown, withdrawn or other category's item is a 422 on `service_item`, nothing stored."""
    c = app.client
    async with app.sessionmaker() as s, s.begin():
        s.add(ServiceItem(code="R1", name="路灯报修", group_name="公共服务", department="市政", level="street",
                          item_type="promise", conditions="c", materials=[], office="o", address="a", hours="h",
                          phone="1", online=True, offline=True, category_code="road", time_limit_days=5))
    lon, lat = w.POINTS["D1S1C1G1"]
    request = {"category": "road", "description": "路灯不亮", "lon": lon, "lat": lat}
    for code in ("R404", "X2", "S001"):  # unknown, withdrawn, filed under another category
        r = await c.post("/api/v1/public/requests", json=request | {"service_item": code})
        assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "service_item", r.text
    r = await c.post("/api/v1/public/requests", json=request | {"service_item": "R" * 33})
    assert r.status_code == 422 and "service_item" in r.json()["error"]["details"][0]["loc"], r.text
    op = await app.as_("op1")
    r = await c.post("/api/v1/alerts", headers=op, json=request | {"channel": "hotline", "service_item": "S001"})
    assert r.status_code == 422, r.text
    async with app.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(Incident)) == 0

    resident = await c.post("/api/v1/public/requests", json=request | {"service_item": "R1"})
    assert resident.status_code == 201, resident.text
    hotline = await c.post("/api/v1/alerts", headers=op, json=request | {"channel": "hotline", "service_item": "R1"})
    assert hotline.status_code == 201, hotline.text
    plain = await c.post("/api/v1/alerts", headers=op, json=request | {"channel": "hotline"})
    assert plain.status_code == 201, plain.text
    async with app.sessionmaker() as s:
        named = dict((await s.execute(select(Incident.id, Incident.service_item_code))).all())
    resident_id = next(i for i in named if i not in (hotline.json()["id"], plain.json()["id"]))
    assert named == {resident_id: "R1", hotline.json()["id"]: "R1", plain.json()["id"]: None}
    detail = (await c.get(f"/api/v1/incidents/{hotline.json()['id']}", headers=op)).json()
    assert detail["service_item"] == {"code": "R1", "name": "路灯报修"}
    assert "service_item" not in (await c.get(f"/api/v1/incidents/{plain.json()['id']}", headers=op)).json()
    now = datetime.now(UTC)
    r = await c.get("/api/v1/ledger", headers=await app.as_("admin"), params={
        "from": (now - timedelta(hours=1)).isoformat(), "to": (now + timedelta(hours=1)).isoformat(), "format": "csv"})
    ledger = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    in_ledger = {int(row["编号 ID"]): row["服务事项 Service item"] for row in ledger}
    assert in_ledger == {k: v or "" for k, v in named.items()}  # the ledger has the item's column
    r = await c.get("/api/v1/stats", headers=op, params={
        "from": (now - timedelta(hours=1)).isoformat(), "to": (now + timedelta(hours=1)).isoformat(),
        "group": "service_item"})
    assert {row["key"]: row["received"] for row in r.json()["rows"]} == {"R1": 2, "": 1}  # "": not from an item
