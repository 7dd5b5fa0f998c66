"""挂账 (suspend), 作废 (cancel) and escalation to the level above, through the API: each with its bad input,
the lifecycle's refusals (409, nothing changed), scope (403) and the event log naming the operator."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from command.core.models import Event, Incident, Order
from tests import loop_world as w
from tests.environment import make_test_settings

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
async def app(clean_db: AsyncEngine):
    async with w.loop_app(clean_db, make_test_settings()) as app:
        yield app


async def _events(app, incident_id: int) -> list[Event]:
    async with app.sessionmaker() as s:
        return list(await s.scalars(select(Event).where(Event.incident_id == incident_id).order_by(Event.id)))


async def test_suspend_cancel_follow_the_lifecycle(app) -> None:
    c, op = app.client, await app.as_("op1")
    async with app.sessionmaker() as s, s.begin():
        parked = await w.incident(s, status="in_progress")
        await w.order(s, parked, status="signed_for")
        early = await w.incident(s, status="located")
        worker_busy = await w.incident(s, status="in_progress")
        await w.order(s, worker_busy, status="accepted", worker_id=app.world.worker_id)
        done = await w.incident(s, status="closed")
    # Blank reason → 422; 挂账 from located is not in the table → 409; closed cannot be cancelled → 409.
    assert (await c.post(f"/api/v1/incidents/{parked.id}/suspend", headers=op, json={"reason": " "})).status_code == 422
    assert (await c.post(f"/api/v1/incidents/{early.id}/suspend", headers=op, json={"reason": "x"})).status_code == 409
    assert (await c.post(f"/api/v1/incidents/{done.id}/cancel", headers=op, json={"reason": "x"})).status_code == 409
    r = await c.post(f"/api/v1/incidents/{parked.id}/suspend", headers=await app.as_("op2"), json={"reason": "x"})
    assert r.status_code == 403
    # A worker's order in hand: sent back first (409, nothing changed).
    r = await c.post(f"/api/v1/incidents/{worker_busy.id}/cancel", headers=op, json={"reason": "重复"})
    assert r.status_code == 409 and "sent back" in r.json()["error"]["message"]
    r = await c.post(f"/api/v1/incidents/{parked.id}/suspend", headers=op, json={"reason": "等待拆迁"})
    assert r.status_code == 200 and r.json()["status"] == "suspended", r.text
    detail = (await c.get(f"/api/v1/incidents/{parked.id}", headers=op)).json()
    assert "cancelled" in detail["moves"] and "suspended" not in detail["moves"]
    r = await c.post(f"/api/v1/incidents/{parked.id}/cancel", headers=op, json={"reason": "群众撤诉"})
    assert r.status_code == 200 and r.json()["status"] == "cancelled", r.text
    async with app.sessionmaker() as s:
        assert (await s.get(Incident, worker_busy.id)).status == "in_progress"
        statuses = list(await s.scalars(select(Order.status).where(Order.incident_id == parked.id)))
    assert statuses == ["cancelled"]
    kinds = [(e.kind, e.actor, e.reason) for e in await _events(app, parked.id)]
    assert ("incident.suspended", "op1", "等待拆迁") in kinds and ("incident.cancelled", "op1", "群众撤诉") in kinds


async def test_escalate_one_level_at_a_time_up_to_the_top(app) -> None:
    c, op = app.client, await app.as_("op1")
    async with app.sessionmaker() as s, s.begin():
        inc = await w.incident(s, status="dispatched")  # D1 > D1S1 > D1S1C1 > D1S1C1G1
        ended = await w.incident(s, status="cancelled")
    url = f"/api/v1/incidents/{inc.id}/escalate"
    assert (await c.post(url, headers=op, json={"reason": ""})).status_code == 422
    assert (await c.post(f"/api/v1/incidents/{ended.id}/escalate", headers=op, json={"reason": "x"})).status_code == 409
    got = []
    for _ in range(3):
        r = await c.post(url, headers=op, json={"reason": "超出社区处置能力"})
        assert r.status_code == 201, r.text
        got.append(r.json()["escalation"]["to_region"])
    assert got == ["D1S1C1", "D1S1", "D1"]
    async with app.sessionmaker() as s:
        before = await s.scalar(select(func.count()).select_from(Event).where(Event.incident_id == inc.id))
    r = await c.post(url, headers=op, json={"reason": "再上报"})
    assert r.status_code == 409 and "top" in r.json()["error"]["message"]
    events = await _events(app, inc.id)
    assert len(events) == before
    assert [(e.actor, e.reason) for e in events if e.kind == "incident.escalated"] == [("op1", "超出社区处置能力")] * 3
