"""Counter intake (窗口/服务专柜, issue 15 item 4) over tests.loop_world: op1 operates D1 at a desk; a 即办件 is closed
on the spot with its outcome, a 承诺件 gets the item's deadline in working days; the receipt carries the tracking
link and its QR code."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from command.core.models import Event, Incident, Order, ServiceItem
from command.deadlines.workdays import NATIONAL
from tests import loop_world as w
from tests.environment import make_test_settings

pytestmark = pytest.mark.timeout(120)
LON, LAT = w.POINTS["D1S1C1G1"]


def _item(code: str, name: str, item_type: str, category: str, days: int | None) -> ServiceItem:
    return ServiceItem(code=code, name=name, group_name="公共服务", department="区民政局", category_code=category,
                       level="community", item_type=item_type, conditions="本辖区居民", materials=["身份证", "户口簿"],
                       office="社区党群服务中心", address="幸福路1号", hours="工作日 9:00-17:00",
                       time_limit_days=days, phone="025-00000000")


@pytest.fixture
async def app(clean_db: AsyncEngine, redis):
    async with w.loop_app(clean_db, make_test_settings()) as app:
        async with app.sessionmaker() as s, s.begin():
            s.add_all([_item("T001", "居住证明开具", "immediate", "road", None),
                       _item("T002", "低保申请", "promise", "water", 5)])
        yield app


def body(**extra) -> dict:
    return {"item_code": "T001", "mode": "on_the_spot", "description": "开具居住证明", "lon": LON, "lat": LAT,
            "resident": {"name": "张三", "phone": "13800001234"}, "outcome": "当场出具居住证明一份", **extra}


async def test_a_counter_closes_an_immediate_item_on_the_spot_and_prints_a_receipt(app) -> None:
    c, op1 = app.client, await app.as_("op1")
    r = await c.post("/api/v1/counter", headers=op1, json=body())
    assert r.status_code == 201, r.text
    done = r.json()
    assert (done["status"], done["mode"], done["due_at"]) == ("closed", "on_the_spot", None)
    iid = done["incident_id"]
    async with app.sessionmaker() as s:
        kinds = [(e.kind, e.actor) for e in await s.scalars(select(Event).where(Event.incident_id == iid)
                                                              .order_by(Event.id))]
        orders = list(await s.scalars(select(Order).where(Order.incident_id == iid)))
        incident = await s.get(Incident, iid)
    assert orders == []  # handled at the desk: nobody was dispatched
    assert incident.channel == "counter" and incident.item_type == "immediate"
    assert [k for k in kinds if k[0] in ("counter.received", "incident.resolved", "incident.verified",
                                         "incident.closed")] == [
        ("counter.received", "op1"), ("incident.resolved", "op1"), ("incident.verified", "op1"),
        ("incident.closed", "op1")]

    rec = await c.get(done["receipt_url"].replace("/counter/receipt/", "/api/v1/counter/receipts/"), headers=op1)
    assert rec.status_code == 200, rec.text
    receipt = rec.json()
    assert receipt["item"]["name"] == "居住证明开具" and receipt["outcome"] == "当场出具居住证明一份"
    assert receipt["resident"] == {"name": "张三", "phone": "138****1234"}
    assert receipt["qr"].startswith("data:image/png;base64,")
    assert f"/r/t/{done['public_id']}#k=" in receipt["tracking_url"]
    track = await c.get(f"/api/v1/track/{done['public_id']}",
                        headers={"X-Tracking-Token": receipt["tracking_url"].split("#k=")[1]})
    assert track.status_code == 200 and track.json()["status"] == "closed"
    # Another district's operator may not print it.
    assert (await c.get(f"/api/v1/counter/receipts/{iid}", headers=await app.as_("op2"))).status_code == 403


async def test_a_promised_item_gets_its_deadline_in_working_days(app) -> None:
    c, op1 = app.client, await app.as_("op1")
    r = await c.post("/api/v1/counter", headers=op1, json=body(item_code="T002", mode="promise", outcome=None))
    assert r.status_code == 201, r.text
    done = r.json()
    async with app.sessionmaker() as s:
        incident = await s.get(Incident, done["incident_id"])
    expected = NATIONAL.add_workdays(incident.created_at, 5, ZoneInfo("Asia/Shanghai"))
    assert incident.resolve_due_at == expected and datetime.fromisoformat(done["due_at"]) == expected
    assert incident.status != "closed" and incident.item_type == "promise"
    assert incident.service_item_code == "T002"  # the incident names its catalogue item
    receipt = (await c.get(f"/api/v1/counter/receipts/{done['incident_id']}", headers=op1)).json()
    assert datetime.fromisoformat(receipt["due_at"]) == expected and receipt["mode"] == "promise"


async def test_counter_refusals_change_nothing(app) -> None:
    c, op1 = app.client, await app.as_("op1")
    for bad, field in ((body(mode="promise"), "mode"), (body(item_code="T002"), "mode"),
                       (body(outcome=None), "outcome"), (body(item_code="NOPE"), "item_code")):
        r = await c.post("/api/v1/counter", headers=op1, json=bad)
        assert r.status_code == 422, r.text
        assert r.json()["error"]["details"][0]["field"] == field
    assert (await c.post("/api/v1/counter", headers=op1, json=body(mode="later"))).status_code == 422
    assert (await c.post("/api/v1/counter", headers=await app.as_("w1"), json=body())).status_code == 403
    async with app.sessionmaker() as s:
        assert await s.scalar(select(Incident.id).limit(1)) is None
        inc = await w.incident(s)
        await s.commit()
    assert (await c.get(f"/api/v1/counter/receipts/{inc.id}", headers=op1)).status_code == 404
