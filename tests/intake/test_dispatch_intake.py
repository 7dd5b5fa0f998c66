"""POST /api/v1/alerts on the in-process app: stored, located, dispatched by the rules; idempotency."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from command.core.db import make_sessionmaker
from command.core.models import Event, Incident, RoutingRule
from geo.coords import from_wgs84
from tests.dispatch_fixtures import at, counts, metres, redis_loads
from tests.dispatch_world import alert
from tests.dispatch_world import dispatch_client as app_client


async def _kinds(engine, incident_id: int) -> list[str]:
    async with make_sessionmaker(engine)() as s:
        return list(await s.scalars(select(Event.kind).where(Event.incident_id == incident_id).order_by(Event.id)))


async def test_alert_is_located_and_dispatched_to_nearest(world, dsettings, redis, clean_db) -> None:
    async with app_client(dsettings) as client:
        r = await client.post("/api/v1/alerts", json=alert(), headers=world.op.headers)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "dispatched" and body["replayed"] is False and body["attention_reason"] is None
    assert body["region_code"] == "CA1" and body["region_path"] == ["D", "SA", "CA1"]
    assert [c["code"] for c in body["region_chain"]] == ["D", "SA", "CA1"]
    assert body["priority"] == 3  # the category's default
    workers = [o for o in body["orders"] if o["assignee_kind"] == "worker"]
    depts = [o for o in body["orders"] if o["assignee_kind"] == "department"]
    assert [o["worker_id"] for o in workers] == [world.near.worker_id]
    assert workers[0]["ack_due_at"] and workers[0]["status"] == "sent"
    assert abs(workers[0]["distance_m"] - metres(at(0.5, 1.5), at(0.55, 1.5))) < 1
    assert [o["department_code"] for o in depts] == ["police-sa"]
    assert await redis_loads(redis) == {world.near.worker_id: 1}
    assert await _kinds(clean_db, body["id"]) == [
        "incident.created", "incident.located", "order.sent", "order.offered", "incident.dispatched"]


async def test_region_override_and_deepest_department(world, dsettings, redis) -> None:
    """fire: 1 worker + the district's fire department; in street SB the SB rule (2 workers) and SB's station."""
    async with app_client(dsettings) as client:
        sa = (await client.post("/api/v1/alerts", json=alert((1.0, 2.0), category="fire"),
                                headers=world.op.headers)).json()
        sb = (await client.post("/api/v1/alerts", json=alert((2.2, 3.0), category="fire"),
                                headers=world.op.headers)).json()
    assert sa["priority"] == 1
    assert [o["department_code"] for o in sa["orders"] if o["assignee_kind"] == "department"] == ["fire-d"]
    assert len([o for o in sa["orders"] if o["assignee_kind"] == "worker"]) == 1
    assert [o["department_code"] for o in sb["orders"] if o["assignee_kind"] == "department"] == ["fire-sb"]
    sb_workers = [o["worker_id"] for o in sb["orders"] if o["assignee_kind"] == "worker"]
    # The two nearest of the three not yet taken by the first alert, nearest first.
    assert len(sb_workers) == 2 and sb_workers[0] == world.far.worker_id


async def test_own_grid_worker_goes_first(world, dsettings) -> None:
    """In grid GA1 the grid's own worker is sent though another worker is nearer (fire: own_grid_first)."""
    where = (0.6, 0.98)
    assert metres(at(*where), at(0.55, 1.5)) < metres(at(*where), at(0.05, 0.05))
    async with app_client(dsettings) as client:
        body = (await client.post("/api/v1/alerts", json=alert(where, category="fire"),
                                  headers=world.op.headers)).json()
    assert body["region_code"] == "GA1"
    assert [o["worker_id"] for o in body["orders"] if o["assignee_kind"] == "worker"] == [world.grid.worker_id]


async def test_default_rule_for_category_without_rule(world, dsettings) -> None:
    async with app_client(dsettings) as client:
        body = (await client.post("/api/v1/alerts", json=alert(category="lost", priority=2),
                                  headers=world.op.headers)).json()
    assert body["status"] == "dispatched" and body["priority"] == 2
    assert [(o["assignee_kind"], o["worker_id"]) for o in body["orders"]] == [("worker", world.near.worker_id)]


async def test_priority_from_the_deepest_rule_else_category_and_the_sender_wins(world, dsettings, clean_db) -> None:
    """noise (default P4, its default rule sets no priority): street SA's rule says 2, community CA2's (inside SA)
    says 1; an alert's own priority beats both."""
    async with make_sessionmaker(clean_db)() as s, s.begin():
        s.add_all([RoutingRule(category_code="noise", region_code=code, workers_needed=1, department_kinds=[],
                               own_grid_first=False, priority=priority) for code, priority in (("SA", 2), ("CA2", 1))])
    async with app_client(dsettings) as client:
        got = [(await client.post("/api/v1/alerts", json=alert(where, category="noise", **kw),
                                  headers=world.op.headers)).json()
               for where, kw in (((0.5, 1.5), {}), ((0.5, 2.5), {}), ((2.2, 3.0), {}), ((0.5, 2.5), {"priority": 3}))]
    assert [(b["region_code"], b["priority"]) for b in got] == [("CA1", 2), ("CA2", 1), ("CB", 4), ("CA2", 3)]


async def test_gcj02_input_is_stored_as_wgs84(world, dsettings) -> None:
    wgs = at(0.5, 1.5)
    gcj = from_wgs84(*wgs, "gcj02")
    assert metres(wgs, gcj) > 100  # the shift is real here
    async with app_client(dsettings) as client:
        body = (await client.post("/api/v1/alerts", json=alert(lon=gcj[0], lat=gcj[1], crs="gcj02"),
                                  headers=world.op.headers)).json()
    assert abs(body["lon"] - wgs[0]) < 1e-7 and abs(body["lat"] - wgs[1]) < 1e-7
    assert body["region_code"] == "CA1"


async def test_outside_every_region_needs_attention(world, dsettings, redis, clean_db) -> None:
    async with app_client(dsettings) as client:
        r = await client.post("/api/v1/alerts", json=alert(lon=116.4, lat=39.9), headers=world.op.headers)
    body = r.json()
    assert r.status_code == 201 and body["status"] == "needs_attention" and body["orders"] == []
    assert body["attention_reason"].startswith("outside:") and body["region_path"] == []
    assert await redis_loads(redis) == {}
    assert await _kinds(clean_db, body["id"]) == ["incident.created", "incident.needs_attention"]


async def test_nobody_available_needs_attention(world, dsettings, redis) -> None:
    async with app_client(dsettings) as client:
        for w in (world.near, world.mid, world.far, world.grid):
            r = await client.post("/api/v1/workers/me/status", json={"status": "off_duty"}, headers=w.headers)
            assert r.status_code == 200 and r.json() == {"status": "off_duty"}
        body = (await client.post("/api/v1/alerts", json=alert(category="noise"), headers=world.op.headers)).json()
        assert body["status"] == "needs_attention" and body["attention_reason"].startswith("no_worker:")
        listed = (await client.get("/api/v1/incidents", params={"needs_attention": "true"},
                                   headers=world.op.headers)).json()["items"]
        assert [i["id"] for i in listed] == [body["id"]]
        # Back on duty: the next alert is dispatched again.
        await client.post("/api/v1/workers/me/status", json={"status": "available"}, headers=world.near.headers)
        body = (await client.post("/api/v1/alerts", json=alert(category="noise"), headers=world.op.headers)).json()
        assert body["status"] == "dispatched"
        assert [o["worker_id"] for o in body["orders"]] == [world.near.worker_id]


async def test_missing_department_is_dispatched_with_attention(world, dsettings, clean_db) -> None:
    """dispute needs police; street SB has none: the worker goes, and operators see why it is incomplete."""
    async with app_client(dsettings) as client:
        body = (await client.post("/api/v1/alerts", json=alert((2.5, 2.5)), headers=world.op.headers)).json()
    assert body["status"] == "dispatched"
    assert body["attention_reason"].startswith("no_department:") and "police" in body["attention_reason"]
    assert [o["assignee_kind"] for o in body["orders"]] == ["worker"]
    assert (await _kinds(clean_db, body["id"]))[-1] == "incident.attention"


async def test_external_id_and_idempotency_key_replay(world, dsettings, clean_db, redis) -> None:
    async with app_client(dsettings) as client:
        first = await client.post("/api/v1/alerts", json=alert(external_id="12345-0001"), headers=world.op.headers)
        again = await client.post("/api/v1/alerts", json=alert(external_id="12345-0001"), headers=world.op.headers)
        assert first.status_code == 201 and again.status_code == 200
        assert again.headers["Idempotent-Replayed"] == "true" and again.json()["replayed"] is True
        assert again.json()["id"] == first.json()["id"] and again.json()["orders"] == first.json()["orders"]
        assert again.json()["region_chain"] == first.json()["region_chain"]
        # The same external_id on another channel is another report.
        other = await client.post("/api/v1/alerts", json=alert(external_id="12345-0001", channel="app"),
                                  headers=world.op.headers)
        assert other.status_code == 201 and other.json()["id"] != first.json()["id"]
        k1 = await client.post("/api/v1/alerts", json=alert(), headers={**world.op.headers, "Idempotency-Key": "k-1"})
        k2 = await client.post("/api/v1/alerts", json=alert(), headers={**world.op.headers, "Idempotency-Key": "k-1"})
        assert (k1.status_code, k2.status_code) == (201, 200) and k1.json()["id"] == k2.json()["id"]
    assert (await counts(clean_db))[0] == 3
    assert sum((await redis_loads(redis)).values()) == 3


async def test_concurrent_retries_create_one_incident(world, dsettings, clean_db, redis) -> None:
    headers = {**world.op.headers, "Idempotency-Key": "retry-storm"}
    async with app_client(dsettings) as client:
        answers = await asyncio.gather(*(client.post("/api/v1/alerts", json=alert(category="noise"), headers=headers)
                                         for _ in range(12)))
    codes = sorted(r.status_code for r in answers)
    assert codes == [200] * 11 + [201], [r.text for r in answers if r.status_code not in (200, 201)]
    assert len({r.json()["id"] for r in answers}) == 1
    async with make_sessionmaker(clean_db)() as s:
        assert await s.scalar(select(func.count()).select_from(Incident)) == 1
    assert sum((await redis_loads(redis)).values()) == 1  # losers' claims were never made or given back


async def test_key_reused_for_another_alert_is_409(world, dsettings, clean_db, redis) -> None:
    headers = {**world.op.headers, "Idempotency-Key": "k-2"}
    async with app_client(dsettings) as client:
        assert (await client.post("/api/v1/alerts", json=alert(), headers=headers)).status_code == 201
        before, loads = await counts(clean_db), await redis_loads(redis)
        r = await client.post("/api/v1/alerts", json=alert(description="另一件事"), headers=headers)
    assert r.status_code == 409 and "different alert" in r.json()["error"]["message"]
    assert await counts(clean_db) == before and await redis_loads(redis) == loads


async def test_worker_patrol_report(world, dsettings) -> None:
    async with app_client(dsettings) as client:
        r = await client.post("/api/v1/alerts", json=alert(channel="patrol"), headers=world.far.headers)
        assert r.status_code == 201 and r.json()["channel"] == "patrol"
