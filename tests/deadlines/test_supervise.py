"""Manual supervision (督办): POST /api/v1/incidents/{id}/supervise — the event with the caller as actor, the
incident's most urgent open deadline raised to level 1; every failure path changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from command.core.clock import utcnow
from command.core.models import Deadline, Event
from tests import loop_world as w
from tests.environment import make_test_settings

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
async def app(clean_db: AsyncEngine):
    async with w.loop_app(clean_db, make_test_settings()) as app:
        yield app


async def _incident(app, *, status: str = "dispatched", grid: str = "D1S1C1G1") -> tuple[int, list[int]]:
    """An incident with a resolve deadline (due in 5 days) and an earlier respond deadline (due in
    1 day): neither is on the wall's board until supervised (its horizon is 4 h)."""
    now = utcnow()
    async with app.sessionmaker() as s, s.begin():
        inc = await w.incident(s, status=status, grid=grid)
        rows = [Deadline(key=f"incident:{inc.id}:{kind}:0", incident_id=inc.id, kind=kind, due_at=now + due)
                for kind, due in (("resolve", timedelta(days=5)), ("respond", timedelta(days=1)))]
        s.add_all(rows)
        await s.flush()
        return inc.id, [d.id for d in rows]


async def _state(app, incident_id: int) -> tuple[int, list[int]]:
    async with app.sessionmaker() as s:
        events = await s.scalar(select(func.count()).select_from(Event).where(
            Event.incident_id == incident_id, Event.kind == "supervision.raised"))
        levels = list(await s.scalars(select(Deadline.supervision_level).where(
            Deadline.incident_id == incident_id).order_by(Deadline.id)))
    return events, levels


async def test_supervise_records_event_and_raises_deadline(app) -> None:
    inc, (resolve_id, respond_id) = await _incident(app)
    board = (await app.client.get("/api/v1/screen/board", headers=await app.as_("op1"))).json()
    assert board["deadlines"] == []
    r = await app.client.post(f"/api/v1/incidents/{inc}/supervise", headers=await app.as_("op1"),
                              json={"reason": "群众多次来电，请加快处置"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["kind"] == "supervision.raised" and body["reason"] == "群众多次来电，请加快处置"
    assert body["deadline"]["id"] == respond_id  # the one due first
    assert body["supervision"] == {"level": 1, "region_code": "D1S1C1"}
    async with app.sessionmaker() as s:
        event = await s.scalar(select(Event).where(Event.incident_id == inc, Event.kind == "supervision.raised"))
        assert event.actor == "op1" and event.payload["manual"] is True
        assert {d.id: d.supervision_level for d in await s.scalars(select(Deadline))} == {
            resolve_id: 0, respond_id: 1}
    # A supervisor supervising again: a second event, the level stays (at least 1, not raised further).
    r = await app.client.post(f"/api/v1/incidents/{inc}/supervise", headers=await app.as_("sup1"),
                              json={"reason": "再次督办"})
    assert r.status_code == 201, r.text
    assert await _state(app, inc) == (2, [0, 1])
    # The timeline of the incident shows it, with the caller as actor.
    detail = (await app.client.get(f"/api/v1/incidents/{inc}", headers=await app.as_("op1"))).json()
    assert [(e["actor"], e["reason"]) for e in detail["events"] if e["kind"] == "supervision.raised"] == [
        ("op1", "群众多次来电，请加快处置"), ("sup1", "再次督办")]
    # The wall's board lists the supervised deadline (and only that one of the two).
    board = (await app.client.get("/api/v1/screen/board", headers=await app.as_("op1"))).json()
    assert [(d["deadline_id"], d["supervision_level"]) for d in board["deadlines"]] == [(respond_id, 1)]


async def test_supervise_without_open_deadline_records_the_event(app) -> None:
    async with app.sessionmaker() as s, s.begin():
        inc = (await w.incident(s, status="located")).id
    r = await app.client.post(f"/api/v1/incidents/{inc}/supervise", headers=await app.as_("admin"),
                              json={"reason": "督办"})
    assert r.status_code == 201, r.text
    assert r.json()["deadline"] is None and r.json()["supervision"]["level"] == 1
    assert await _state(app, inc) == (1, [])


@pytest.mark.parametrize(("user", "target", "body", "status"), [
    ("op1", "missing", {"reason": "督办"}, 404),
    ("op2", "d1", {"reason": "督办"}, 403),  # op2's region is D2
    ("sup2", "d1", {"reason": "督办"}, 403),
    ("w1", "d1", {"reason": "督办"}, 403),  # a worker may not supervise
    ("water", "d1", {"reason": "督办"}, 403),  # nor a department liaison
    ("op1", "d1", {}, 422),
    ("op1", "d1", {"reason": ""}, 422),
    ("op1", "d1", {"reason": "   "}, 422),
    ("op1", "d1", {"reason": "x" * 4001}, 422),
    ("op1", "d1", {"reason": "督办", "level": 3}, 422),
    ("op1", "closed", {"reason": "督办"}, 409),
    ("op1", "merged", {"reason": "督办"}, 409),
    ("op1", "cancelled", {"reason": "督办"}, 409),
])
async def test_supervise_failures_change_nothing(app, user: str, target: str, body: dict, status: int) -> None:
    ids = {"d1": (await _incident(app))[0]}
    for terminal in ("closed", "merged", "cancelled"):
        ids[terminal] = (await _incident(app, status=terminal))[0]
    inc = ids.get(target, 999999)
    before = {i: await _state(app, i) for i in ids.values()}
    r = await app.client.post(f"/api/v1/incidents/{inc}/supervise", headers=await app.as_(user), json=body)
    assert r.status_code == status, r.text
    assert "error" in r.json() or "detail" in r.json()
    assert {i: await _state(app, i) for i in ids.values()} == before
    assert all(levels == [0, 0] and events == 0 for events, levels in before.values())
