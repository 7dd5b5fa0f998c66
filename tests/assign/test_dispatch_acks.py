"""Acknowledgement: accept, decline and timeout (→ the next nearest candidate), resolution, operator override."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import select

from command.core.db import make_sessionmaker
from command.core.models import Event
from command.ops.background import fire_due_timers
from dispatch import keys
from tests.dispatch_fixtures import redis_loads
from tests.dispatch_world import alert, build_world
from tests.dispatch_world import dispatch_client as app_client


@pytest.fixture(name="world")
async def short_world(clean_db, redis, dsettings):
    """Offers time out after 1 s; three failed offers alert the operators."""
    return await build_world(clean_db, redis, dsettings, ack_timeout_s=1, max_attempts=3)


def worker_order(body: dict) -> dict:
    [order] = [o for o in body["orders"] if o["assignee_kind"] == "worker"]
    return order


async def test_decline_goes_to_next_nearest_then_operators(world, dsettings, redis, clean_db) -> None:
    async with app_client(dsettings) as client:
        inc = (await client.post("/api/v1/alerts", json=alert(category="noise"), headers=world.op.headers)).json()
        first = worker_order(inc)
        assert first["worker_id"] == world.near.worker_id
        r = await client.post(f"/api/v1/orders/{first['id']}/decline", json={"reason": "在医院陪护"},
                              headers=world.near.headers)
        assert r.status_code == 200, r.text
        assert r.json()["order"]["status"] == "declined"
        second = r.json()["next_order"]
        assert second["worker_id"] == world.mid.worker_id  # the next nearest, the decliner excluded
        assert await redis_loads(redis) == {world.mid.worker_id: 1}
        r = await client.post(f"/api/v1/orders/{second['id']}/decline", json={"reason": "车坏了"},
                              headers=world.mid.headers)
        third = r.json()["next_order"]
        assert third["worker_id"] == world.grid.worker_id
        r = await client.post(f"/api/v1/orders/{third['id']}/decline", json={"reason": "不在辖区"},
                              headers=world.grid.headers)
        assert r.json()["next_order"] is None
        detail = (await client.get(f"/api/v1/incidents/{inc['id']}", headers=world.op.headers)).json()
    assert detail["status"] == "needs_attention" and detail["attention_reason"].startswith("offers_failed: 3")
    assert await redis_loads(redis) == {}
    kinds = [e["kind"] for e in detail["events"]]
    assert kinds.count("order.declined") == 3 and kinds[-1] == "incident.needs_attention"
    reasons = [e["reason"] for e in detail["events"] if e["kind"] == "order.declined"]
    assert reasons == ["在医院陪护", "车坏了", "不在辖区"]


async def test_timeout_goes_to_next_nearest(world, dsettings, redis, clean_db) -> None:
    async with app_client(dsettings) as client:
        inc = (await client.post("/api/v1/alerts", json=alert(category="noise"), headers=world.op.headers)).json()
    first = worker_order(inc)
    await asyncio.sleep(0.05)  # the after-commit hook schedules the timer
    due_ms = await redis.zscore(keys.ACK_TIMERS, str(first["id"]))
    assert due_ms is not None
    sm = make_sessionmaker(clean_db)
    if time.time() * 1000 < due_ms - 200:  # (a loaded machine may reach this line after the 1 s offer ran out)
        assert await fire_due_timers(sm, redis, dsettings) == 0  # not due yet
    await asyncio.sleep(max(0.0, (due_ms - time.time() * 1000) / 1000) + 0.1)
    assert await fire_due_timers(sm, redis, dsettings) == 1
    async with app_client(dsettings) as client:
        detail = (await client.get(f"/api/v1/incidents/{inc['id']}", headers=world.op.headers)).json()
        late = await client.post(f"/api/v1/orders/{first['id']}/accept", headers=world.near.headers)
    assert late.status_code == 409  # too late: it timed out
    by_id = {o["id"]: o for o in detail["orders"]}
    assert by_id[first["id"]]["status"] == "timed_out"
    [nxt] = [o for o in detail["orders"] if o["status"] == "sent"]
    assert nxt["worker_id"] == world.mid.worker_id
    assert detail["status"] == "dispatched"
    assert await redis_loads(redis) == {world.mid.worker_id: 1}
    assert "order.timed_out" in [e["kind"] for e in detail["events"]]


async def test_accept_then_resolve_releases_the_worker(world, dsettings, redis, clean_db) -> None:
    async with app_client(dsettings) as client:
        inc = (await client.post("/api/v1/alerts", json=alert(category="noise"), headers=world.op.headers)).json()
        order = worker_order(inc)
        r = await client.post(f"/api/v1/orders/{order['id']}/accept", headers=world.near.headers)
        assert r.status_code == 200 and r.json()["order"]["status"] == "accepted"
        again = await client.post(f"/api/v1/orders/{order['id']}/accept", headers=world.near.headers)
        assert again.status_code == 409
        decline_now = await client.post(f"/api/v1/orders/{order['id']}/decline", json={"reason": "x"},
                                        headers=world.near.headers)
        assert decline_now.status_code == 409  # accepted orders are not declined
        await asyncio.sleep(1.1)
        assert await fire_due_timers(make_sessionmaker(clean_db), redis, dsettings) == 0  # timer was cancelled
        assert await redis_loads(redis) == {world.near.worker_id: 1}
        mine = (await client.get("/api/v1/workers/me/orders", headers=world.near.headers)).json()["items"]
        assert [o["id"] for o in mine] == [order["id"]] and mine[0]["incident"]["status"] == "in_progress"
        no_note = await client.post(f"/api/v1/orders/{order['id']}/resolve", json={"note": ""},
                                    headers=world.near.headers)
        assert no_note.status_code == 422
        done = await client.post(f"/api/v1/orders/{order['id']}/resolve", json={"note": "已调解"},
                                 headers=world.near.headers)
        assert done.status_code == 200 and done.json()["order"]["status"] == "done"
        detail = (await client.get(f"/api/v1/incidents/{inc['id']}", headers=world.op.headers)).json()
    assert detail["status"] == "resolved"
    assert await redis_loads(redis) == {}
    async with make_sessionmaker(clean_db)() as s:
        kinds = list(await s.scalars(select(Event.kind).where(Event.incident_id == inc["id"]).order_by(Event.id)))
    assert kinds[-4:] == ["order.accepted", "incident.in_progress", "order.done", "incident.resolved"]


async def test_operator_override_and_candidates(world, dsettings, redis) -> None:
    h = world.op.headers
    async with app_client(dsettings) as client:
        for w in (world.near, world.mid, world.grid):
            await client.post("/api/v1/workers/me/status", json={"status": "off_duty"}, headers=w.headers)
        # Only far (2.5 km away, inside the 3 km radius) is on duty: two alerts fill them up (max load 2).
        for text in ("第一件", "第二件"):
            inc = (await client.post("/api/v1/alerts", json=alert(category="noise", description=text),
                                     headers=h)).json()
            assert worker_order(inc)["worker_id"] == world.far.worker_id
        inc = (await client.post("/api/v1/alerts", json=alert(category="noise", description="第三件"),
                                 headers=h)).json()
        assert inc["status"] == "needs_attention"
        url = f"/api/v1/incidents/{inc['id']}"
        items = (await client.get(f"{url}/candidates", headers=h)).json()["items"]
        assert [c["worker_id"] for c in items] == [world.near.worker_id, world.mid.worker_id, world.grid.worker_id,
                                                   world.far.worker_id]
        assert [c["distance_m"] for c in items] == sorted(c["distance_m"] for c in items)
        assert [c["availability"] for c in items] == ["off_duty", "off_duty", "off_duty", "busy"]
        assert not any(c["eligible"] for c in items) and items[0]["name"] == "张*"
        await client.post("/api/v1/workers/me/status", json={"status": "available"}, headers=world.near.headers)
        items = (await client.get(f"{url}/candidates", headers=h)).json()["items"]
        assert [c["eligible"] for c in items] == [True, False, False, False]

        off = await client.post(f"{url}/dispatch", json={"worker_id": world.mid.worker_id}, headers=h)
        assert off.status_code == 409 and "off duty" in off.json()["error"]["message"]
        full = await client.post(f"{url}/dispatch", json={"worker_id": world.far.worker_id}, headers=h)
        assert full.status_code == 409 and full.json()["error"]["details"] == {"status": "full"}
        nobody = await client.post(f"{url}/dispatch", json={"worker_id": 99999}, headers=h)
        assert nobody.status_code == 422
        by_worker = await client.post(f"{url}/dispatch", json={"worker_id": world.near.worker_id},
                                      headers=world.near.headers)
        assert by_worker.status_code == 403
        ok = await client.post(f"{url}/dispatch", json={"worker_id": world.near.worker_id}, headers=h)
        assert ok.status_code == 201, ok.text
        assert ok.json()["incident"]["status"] == "dispatched" and ok.json()["incident"]["attention_reason"] is None
        assert ok.json()["order"]["worker_id"] == world.near.worker_id and ok.json()["order"]["ack_due_at"]
        assert ok.json()["order"]["distance_m"] == items[0]["distance_m"]
        twice = await client.post(f"{url}/dispatch", json={"worker_id": world.near.worker_id}, headers=h)
        assert twice.status_code == 409  # already holds it
    assert await redis_loads(redis) == {world.far.worker_id: 2, world.near.worker_id: 1}
