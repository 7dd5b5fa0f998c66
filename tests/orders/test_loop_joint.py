"""Department work orders over HTTP: a 联办件 with three departments closes only when all have reported
done and its on-time figures count each department; the liaison flow (sign, notes with photos,
extension, send back), the operator's check, rework and close; scope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from command.core.models import Deadline, Event, Incident, Order
from tests import loop_world as w
from tests.environment import make_test_settings

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
pytestmark = pytest.mark.timeout(120)


@pytest.fixture
async def app(clean_db: AsyncEngine, tmp_path):
    settings = make_test_settings(upload_dir=str(tmp_path / "uploads"))
    async with w.loop_app(clean_db, settings) as app:
        yield app


async def _incident(app, **kw) -> Incident:
    async with app.sessionmaker() as s, s.begin():
        return await w.incident(s, **kw)


async def _status(app, incident_id: int) -> str:
    async with app.sessionmaker() as s:
        return await s.scalar(select(Incident.status).where(Incident.id == incident_id))


async def _orders(app, incident_id: int) -> dict[str, Order]:
    async with app.sessionmaker() as s:
        rows = await s.scalars(select(Order).where(Order.incident_id == incident_id))
        return {o.department_code: o for o in rows}


async def _event_count(app) -> int:
    async with app.sessionmaker() as s:
        return await s.scalar(select(func.count()).select_from(Event))


async def test_joint_item_closes_when_all_three_report_done(app) -> None:
    c = app.client
    inc = await _incident(app)
    r = await c.post(f"/api/v1/incidents/{inc.id}/departments", headers=await app.as_("op1"),
                     json={"lead": "water_co", "supports": ["power_co", "roads_bureau"]})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["incident"]["status"] == "dispatched" and body["incident"]["item_type"] == "joint"
    assert [(o["department_code"], o["role"]) for o in body["orders"]] == [
        ("water_co", "lead"), ("power_co", "support"), ("roads_bureau", "support")]
    orders = await _orders(app, inc.id)
    assert all(o.ack_due_at is not None and o.due_at is not None for o in orders.values())
    # Each department has its own sign-for and resolve deadline rows.
    async with app.sessionmaker() as s:
        kinds = sorted((d.order_id, d.kind) for d in await s.scalars(select(Deadline).where(
            Deadline.incident_id == inc.id, Deadline.order_id.is_not(None))))
    assert len(kinds) == 6

    # power_co signs late (its limit already passed); roads_bureau finishes after its deadline.
    past = datetime.now(UTC) - timedelta(minutes=5)
    async with app.sessionmaker() as s, s.begin():
        await s.execute(update(Order).where(Order.id == orders["power_co"].id).values(ack_due_at=past))
    for liaison, dept in (("water", "water_co"), ("power", "power_co"), ("roads", "roads_bureau")):
        r = await c.post(f"/api/v1/dept/orders/{orders[dept].id}/sign", headers=await app.as_(liaison))
        assert r.status_code == 200 and r.json()["status"] == "signed_for", r.text
    assert await _status(app, inc.id) == "in_progress"

    for liaison, dept in (("water", "water_co"), ("power", "power_co")):
        r = await c.post(f"/api/v1/dept/orders/{orders[dept].id}/done", headers=await app.as_(liaison),
                         json={"feedback": f"{dept} 已处理"})
        assert r.status_code == 200, r.text
        assert await _status(app, inc.id) == "in_progress"  # not until every department is done
    async with app.sessionmaker() as s, s.begin():
        await s.execute(update(Order).where(Order.id == orders["roads_bureau"].id).values(due_at=past))
    r = await c.post(f"/api/v1/dept/orders/{orders['roads_bureau'].id}/done", headers=await app.as_("roads"),
                     json={"feedback": "路面已修复"})
    assert r.status_code == 200
    assert await _status(app, inc.id) == "resolved"

    # On-time figures count each department.
    day = {"from": (datetime.now(UTC) - timedelta(days=1)).isoformat(),
           "to": (datetime.now(UTC) + timedelta(days=1)).isoformat()}
    r = await c.get("/api/v1/stats", params=day | {"group": "department"}, headers=await app.as_("sup1"))
    assert r.status_code == 200, r.text
    by_dept = {row["key"]: row for row in r.json()["rows"]}
    assert {k: (v["sign_due"], v["signed_on_time"], v["resolved"], v["resolved_on_time"])
            for k, v in by_dept.items()} == {"water_co": (1, 1, 1, 1), "power_co": (1, 0, 1, 1),
                                             "roads_bureau": (1, 1, 1, 0)}
    r = await c.get("/api/v1/stats", params=day, headers=await app.as_("sup1"))
    total = r.json()["total"]
    assert (total["received"], total["sign_due"], total["signed_on_time"], total["resolved"]) == (1, 3, 2, 1)
    assert total["rates"]["sign_rate"] == round(2 / 3, 4)


async def test_liaison_flow_extension_notes_send_back_review(app) -> None:
    c = app.client
    inc = await _incident(app)
    r = await c.post(f"/api/v1/incidents/{inc.id}/departments", headers=await app.as_("op1"),
                     json={"lead": "water_co"})
    order_id = r.json()["orders"][0]["id"]
    water = await app.as_("water")
    assert (await c.post(f"/api/v1/dept/orders/{order_id}/sign", headers=water)).status_code == 200

    # Progress note with a photo.
    r = await c.post("/api/v1/uploads", headers=water, files={"file": ("a.png", PNG, "image/png")})
    assert r.status_code == 201, r.text
    photo = r.json()["id"]
    assert (await c.get(r.json()["url"], headers=water)).content == PNG
    r = await c.post(f"/api/v1/dept/orders/{order_id}/notes", headers=water, json={"text": "已到场", "photos": [photo]})
    assert r.status_code == 201, r.text

    # Extension: asked, granted → order extended with the new due date (and a new deadline row).
    new_due = datetime.now(UTC) + timedelta(days=10)
    r = await c.post(f"/api/v1/dept/orders/{order_id}/extensions", headers=water,
                     json={"reason": "需要更换管道", "due_at": new_due.isoformat()})
    assert r.status_code == 201, r.text
    ext_id = r.json()["id"]
    r = await c.post(f"/api/v1/dept/orders/{order_id}/extensions", headers=water,
                     json={"reason": "again", "due_at": (new_due + timedelta(days=1)).isoformat()})
    assert r.status_code == 409  # one pending request at a time
    r = await c.get("/api/v1/supervision/extensions", headers=await app.as_("sup1"))
    assert [e["id"] for e in r.json()["extensions"]] == [ext_id]
    assert (await c.post(f"/api/v1/supervision/extensions/{ext_id}/grant", headers=await app.as_("op1"),
                         json={})).status_code == 403  # operators do not decide extensions
    r = await c.post(f"/api/v1/supervision/extensions/{ext_id}/grant", headers=await app.as_("sup1"), json={})
    assert r.status_code == 200 and r.json()["status"] == "granted", r.text
    orders = await _orders(app, inc.id)
    assert orders["water_co"].status == "extended"
    assert abs((orders["water_co"].due_at - new_due).total_seconds()) < 1
    r = await c.post(f"/api/v1/supervision/extensions/{ext_id}/refuse", headers=await app.as_("sup1"),
                     json={"reason": "late"})
    assert r.status_code == 409  # already decided
    async with app.sessionmaker() as s:
        live = list(await s.scalars(select(Deadline).where(Deadline.order_id == order_id, Deadline.kind == "resolve",
                                                           Deadline.met_at.is_(None))))
    assert len(live) == 1 and abs((live[0].due_at - new_due).total_seconds()) < 1

    # A second request refused: nothing moves.
    r = await c.post(f"/api/v1/dept/orders/{order_id}/extensions", headers=water,
                     json={"reason": "再延", "due_at": (new_due + timedelta(days=5)).isoformat()})
    ext2 = r.json()["id"]
    r = await c.post(f"/api/v1/supervision/extensions/{ext2}/refuse", headers=await app.as_("sup1"), json={})
    assert r.status_code == 422  # a refusal needs its reason
    r = await c.post(f"/api/v1/supervision/extensions/{ext2}/refuse", headers=await app.as_("sup1"),
                     json={"reason": "按原期限办结"})
    assert r.status_code == 200 and r.json()["status"] == "refused"
    assert abs(((await _orders(app, inc.id))["water_co"].due_at - new_due).total_seconds()) < 1

    # Done → resolved; the operator sends it back for rework (counted), then verifies and closes.
    r = await c.post(f"/api/v1/dept/orders/{order_id}/done", headers=water,
                     json={"feedback": "已修复", "photos": [photo]})
    assert r.status_code == 200
    op = await app.as_("op1")
    r = await c.post(f"/api/v1/incidents/{inc.id}/rework", headers=op, json={"reason": "现场仍漏水"})
    assert r.status_code == 200 and r.json()["status"] == "in_progress", r.text
    assert (await _orders(app, inc.id))["water_co"].status == "signed_for"
    await c.post(f"/api/v1/dept/orders/{order_id}/done", headers=water, json={"feedback": "彻底修复"})
    assert (await c.post(f"/api/v1/incidents/{inc.id}/close", headers=op, json={})).status_code == 409
    r = await c.post(f"/api/v1/incidents/{inc.id}/verify", headers=op, json={"note": "核查通过"})
    assert r.status_code == 200
    r = await c.post(f"/api/v1/incidents/{inc.id}/callback", headers=op, json={"rating": "satisfied"})
    assert r.status_code == 201 and r.json()["incident"]["status"] == "callback_done", r.text
    r = await c.post(f"/api/v1/incidents/{inc.id}/close", headers=op, json={"note": "结案"})
    assert r.status_code == 200 and r.json()["status"] == "closed"
    async with app.sessionmaker() as s:
        kinds = list(await s.scalars(select(Event.kind).where(Event.incident_id == inc.id).order_by(Event.id)))
        actors = set(await s.scalars(select(Event.actor).where(Event.incident_id == inc.id)))
    for kind in ("order.signed_for", "order.progress", "order.extension_requested", "order.extended",
                 "order.extension_refused", "order.done", "incident.resolved", "incident.rework", "order.rework",
                 "incident.verified", "incident.rated", "incident.callback", "incident.closed"):
        assert kind in kinds, kind
    assert kinds.count("incident.rework") == 1
    assert {"op1", "water", "sup1"} <= actors


async def test_send_back_returns_to_operator_who_redispatches(app) -> None:
    c = app.client
    inc = await _incident(app)
    r = await c.post(f"/api/v1/incidents/{inc.id}/departments", headers=await app.as_("op1"),
                     json={"lead": "water_co"})
    order_id = r.json()["orders"][0]["id"]
    r = await c.post(f"/api/v1/dept/orders/{order_id}/send-back", headers=await app.as_("water"), json={"reason": ""})
    assert r.status_code == 422
    r = await c.post(f"/api/v1/dept/orders/{order_id}/send-back", headers=await app.as_("water"),
                     json={"reason": "不属于本单位职责"})
    assert r.status_code == 200 and r.json()["status"] == "returned", r.text
    assert await _status(app, inc.id) == "returned"
    r = await c.post(f"/api/v1/incidents/{inc.id}/departments", headers=await app.as_("op1"),
                     json={"lead": "roads_bureau"})
    assert r.status_code == 201 and r.json()["incident"]["status"] == "dispatched"


async def test_scope_and_bad_input_change_nothing(app) -> None:
    c = app.client
    inc = await _incident(app)
    op = await app.as_("op1")
    before = await _event_count(app)
    bad = [
        (await app.as_("op2"), {"lead": "water_co"}, 403),          # another district's operator
        (await app.as_("water"), {"lead": "water_co"}, 403),        # a liaison cannot assign
        (op, {"lead": "nobody"}, 422),                              # unknown department
        (op, {"lead": "water_co", "supports": ["water_co"]}, 422),  # twice
        (op, {"lead": "water_co", "due_at": "2020-01-01T00:00:00+08:00"}, 422),  # past deadline
        (op, {"lead": "water_co", "due_at": "2999-01-01T00:00:00"}, 422),        # no timezone
        (op, {"lead": "water_co", "extra": 1}, 422),                # unknown field
        (op, {}, 422),
    ]
    for headers, body, status in bad:
        r = await c.post(f"/api/v1/incidents/{inc.id}/departments", headers=headers, json=body)
        assert r.status_code == status, (body, r.text)
        assert "error" in r.json()
    assert (await c.post("/api/v1/incidents/999999/departments", headers=op,
                         json={"lead": "water_co"})).status_code == 404
    assert await _status(app, inc.id) == "located" and await _event_count(app) == before

    r = await c.post(f"/api/v1/incidents/{inc.id}/departments", headers=op, json={"lead": "water_co"})
    order_id = r.json()["orders"][0]["id"]
    before = await _event_count(app)
    water, power = await app.as_("water"), await app.as_("power")
    attempts = [
        ("sign", power, None, 403),                                    # another department's order
        ("notes", water, {"text": "x"}, 409),                          # not signed for yet
        ("done", water, {"feedback": "x"}, 409),                       # sent → done is not a move
        ("extensions", water, {"reason": "x", "due_at": "2099-01-01T00:00:00+08:00"}, 409),
        ("notes", water, {"text": ""}, 422),
        ("done", water, {}, 422),
        ("sign", await app.as_("w1"), None, 403),                      # a worker is not a liaison
    ]
    for action, headers, body, status in attempts:
        r = await c.post(f"/api/v1/dept/orders/{order_id}/{action}", headers=headers, json=body)
        assert r.status_code == status, (action, r.text)
    assert (await c.post("/api/v1/dept/orders/999999/sign", headers=water)).status_code == 404
    assert (await c.post(f"/api/v1/dept/orders/{order_id}/sign")).status_code == 401
    assert (await _orders(app, inc.id))["water_co"].status == "sent" and await _event_count(app) == before

    await c.post(f"/api/v1/dept/orders/{order_id}/sign", headers=water)
    before = await _event_count(app)
    more = [
        ("extensions", {"reason": "x", "due_at": "2001-01-01T00:00:00+08:00"}, 422),  # earlier than now
        ("extensions", {"reason": "x", "due_at": "not a date"}, 422),
        ("notes", {"text": "x", "photos": ["not-an-id"]}, 422),
        ("notes", {"text": "x", "photos": ["6f1c8f8e-2f7e-4a38-9a59-3f7c0c3f0d11"]}, 422),  # no such upload
    ]
    for action, body, status in more:
        r = await c.post(f"/api/v1/dept/orders/{order_id}/{action}", headers=water, json=body)
        assert r.status_code == status, (action, r.text)
    for path, body in (("verify", {}), ("rework", {"reason": "x"}), ("close", {}), ("on-the-spot", {"note": "x"}),
                       ("callback", {"rating": "satisfied"})):
        r = await c.post(f"/api/v1/incidents/{inc.id}/{path}", headers=op, json=body)
        assert r.status_code == 409, (path, r.text)
    r = await c.post(f"/api/v1/incidents/{inc.id}/callback", headers=op, json={"rating": "great"})
    assert r.status_code == 422
    assert await _status(app, inc.id) == "in_progress" and await _event_count(app) == before
    for ext_path in ("/api/v1/supervision/extensions/99999/grant", "/api/v1/supervision/extensions/99999/refuse"):
        assert (await c.post(ext_path, headers=await app.as_("sup1"), json={"reason": "x"})).status_code == 404


async def test_on_the_spot_only_for_immediate_and_answer_items(app) -> None:
    c = app.client
    op = await app.as_("op1")
    promise = await _incident(app, item_type="promise")
    answer = await _incident(app, item_type="answer", category="noise")
    r = await c.post(f"/api/v1/incidents/{promise.id}/on-the-spot", headers=op, json={"note": "答复"})
    assert r.status_code == 409 and await _status(app, promise.id) == "located"
    r = await c.post(f"/api/v1/incidents/{answer.id}/on-the-spot", headers=op, json={"note": "已电话答复"})
    assert r.status_code == 200 and r.json()["status"] == "resolved"
