"""The duty roster and shift handovers (issue 15 item 7), over tests.loop_world: op1 and sup1 run D1's centre,
op2 and sup2 D2's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from command.core.models import DutyShift, Event, Handover
from tests import loop_world as w
from tests.environment import make_test_settings

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
async def app(clean_db: AsyncEngine, redis):
    async with w.loop_app(clean_db, make_test_settings()) as app:
        yield app


async def _count(app, model, *where) -> int:
    async with app.sessionmaker() as s:
        return await s.scalar(select(func.count()).select_from(model).where(*where))


def _at(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


async def test_roster_shows_who_is_on_duty_and_who_is_next(app) -> None:
    c, op1 = app.client, await app.as_("op1")
    for user, start, end in (("op1", -4, 4), ("sup1", 4, 12)):
        r = await c.post("/api/v1/duty/shifts", headers=op1, json={"username": user, "starts_at": _at(start),
                                                                   "ends_at": _at(end)})
        assert r.status_code == 201, r.text
    roster = (await c.get("/api/v1/duty/shifts", headers=op1)).json()
    assert [(s["username"], s["now"]) for s in roster["shifts"]] == [("op1", True), ("sup1", False)]
    assert roster["next"]["username"] == "sup1"
    # The other centre has its own roster.
    assert (await c.get("/api/v1/duty/shifts", headers=await app.as_("op2"))).json()["shifts"] == []


@pytest.mark.parametrize(("user", "body", "status"), [
    ("op1", {"username": "op1", "starts_at": _at(1), "ends_at": _at(3)}, 409),  # overlaps op1's shift
    ("op1", {"username": "sup1", "starts_at": _at(30), "ends_at": _at(55)}, 422),  # over 24 hours
    ("op1", {"username": "sup1", "starts_at": _at(3), "ends_at": _at(2)}, 422),
    ("op1", {"username": "op2", "starts_at": _at(30), "ends_at": _at(32)}, 422),  # another centre's operator
    ("op1", {"username": "w1", "starts_at": _at(30), "ends_at": _at(32)}, 422),  # not an operator
    ("op1", {"username": "sup1", "starts_at": "tomorrow", "ends_at": _at(32)}, 422),
    ("op1", {"username": "sup1", "starts_at": "2030-01-01T08:00:00", "ends_at": "2030-01-01T10:00:00"}, 422),
    ("w1", {"username": "w1", "starts_at": _at(30), "ends_at": _at(32)}, 403),
])
async def test_a_refused_shift_changes_nothing(app, user: str, body: dict, status: int) -> None:
    c = app.client
    r = await c.post("/api/v1/duty/shifts", headers=await app.as_("op1"),
                     json={"username": "op1", "starts_at": _at(-1), "ends_at": _at(4)})
    assert r.status_code == 201
    r = await c.post("/api/v1/duty/shifts", headers=await app.as_(user), json=body)
    assert r.status_code == status, r.text
    assert r.json()["error"]["message"]
    assert await _count(app, DutyShift) == 1


async def test_handover_goes_to_the_next_on_duty_who_signs_it_once(app) -> None:
    c, op1, sup1 = app.client, await app.as_("op1"), await app.as_("sup1")
    await c.post("/api/v1/duty/shifts", headers=op1, json={"username": "sup1", "starts_at": _at(1),
                                                           "ends_at": _at(9)})
    r = await c.post("/api/v1/duty/handovers", headers=op1, json={"note": "3 起事件待回访；东风路积水持续关注"})
    assert r.status_code == 201, r.text
    handover = r.json()
    assert (handover["from_username"], handover["to_username"], handover["signed_at"]) == ("op1", "sup1", None)

    assert [h["id"] for h in (await c.get("/api/v1/duty/handovers?pending=true", headers=sup1)).json()] == [
        handover["id"]]
    assert (await c.get("/api/v1/duty/handovers?pending=true", headers=op1)).json() == []
    own = await c.post(f"/api/v1/duty/handovers/{handover['id']}/sign", headers=op1, json={})
    assert own.status_code == 403
    other = await c.post(f"/api/v1/duty/handovers/{handover['id']}/sign", headers=await app.as_("op2"), json={})
    assert other.status_code == 404
    assert await _count(app, Handover, Handover.signed_at.is_not(None)) == 0

    signed = await c.post(f"/api/v1/duty/handovers/{handover['id']}/sign", headers=sup1, json={"note": "已知悉"})
    assert signed.status_code == 200, signed.text
    assert (signed.json()["signed_username"], signed.json()["sign_note"]) == ("sup1", "已知悉")
    again = await c.post(f"/api/v1/duty/handovers/{handover['id']}/sign", headers=sup1, json={})
    assert again.status_code == 409
    book = (await c.get("/api/v1/duty/handovers", headers=op1)).json()
    assert [(h["id"], h["signed_username"]) for h in book] == [(handover["id"], "sup1")]
    async with app.sessionmaker() as s:
        events = (await s.execute(select(Event.kind, Event.region_path).where(Event.kind.like("duty.%"))
                                  .order_by(Event.id))).all()
    assert [tuple(e) for e in events] == [("duty.handover", ["D1"]), ("duty.signed", ["D1"])]


async def test_without_a_roster_any_other_operator_of_the_centre_signs(app) -> None:
    c = app.client
    r = await c.post("/api/v1/duty/handovers", headers=await app.as_("op1"), json={"note": "无异常"})
    assert r.status_code == 201 and r.json()["to_username"] is None
    addressed = await c.post("/api/v1/duty/handovers", headers=await app.as_("op1"),
                             json={"note": "交给 sup1", "to_username": "sup1"})
    assert addressed.json()["to_username"] == "sup1"
    assert (await c.post(f"/api/v1/duty/handovers/{r.json()['id']}/sign", headers=await app.as_("sup1"),
                         json={})).status_code == 200


@pytest.mark.parametrize("body", [{"note": "   "}, {"note": ""}, {"note": "x", "to_username": "op2"},
                                  {"note": "x", "to_username": "op1"}, {"note": "x", "extra": 1}])
async def test_a_refused_handover_changes_nothing(app, body: dict) -> None:
    r = await app.client.post("/api/v1/duty/handovers", headers=await app.as_("op1"), json=body)
    assert r.status_code == 422, r.text
    assert await _count(app, Handover) == 0 and await _count(app, Event) == 0
