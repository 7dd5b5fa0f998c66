"""After the live state is rebuilt, dispatch waits (visibly) for the workers to report again; incidents short of
workers are given workers as soon as some are available (docs/dispatch.md, "After a Redis flush")."""

from __future__ import annotations

from sqlalchemy import func, select

from command.core import txhooks
from command.core.db import make_sessionmaker
from command.core.models import Event, Incident, Order
from command.ops.sweeper import sweep_once
from dispatch import keys, presence
from tests.dispatch_fixtures import at, place
from tests.dispatch_world import alert
from tests.dispatch_world import dispatch_client as app_client
from web.hub import RecentIds


async def event_count(sm) -> int:
    async with sm() as s:
        return await s.scalar(select(func.count()).select_from(Event))


async def incident(sm, incident_id: int) -> tuple[Incident, list[Order], list[str]]:
    async with sm() as s:
        inc = await s.get(Incident, incident_id)
        orders = list(await s.scalars(select(Order).where(Order.incident_id == incident_id).order_by(Order.id)))
        kinds = list(await s.scalars(select(Event.kind).where(Event.incident_id == incident_id).order_by(Event.id)))
    return inc, orders, kinds


async def flush_and_rebuild(sm, redis, dsettings) -> None:
    await redis.flushdb()
    report = await sweep_once(sm, redis, dsettings)
    assert report.rebuilt and report.warming  # 4 workers on duty, none has reported since: wait for 3


async def test_after_a_flush_alerts_wait_for_the_workers_then_go_to_the_nearest(world, dsettings, clean_db,
                                                                                redis) -> None:
    sm = make_sessionmaker(clean_db)
    await flush_and_rebuild(sm, redis, dsettings)
    async with app_client(dsettings) as client:
        r = await client.post("/api/v1/alerts", json=alert(category="noise"), headers=world.op.headers)
        assert r.status_code == 201, r.text
        held = r.json()
        # Waiting is not "needs attention": the operators' queue does not list it.
        queue = (await client.get("/api/v1/incidents?needs_attention=true", headers=world.op.headers)).json()
    assert held["status"] == "located" and held["orders"] == []
    assert held["attention_reason"].startswith("waiting_for_workers: 0 of 3 workers reported")
    assert held["id"] not in [i["id"] for i in queue["items"]]
    _, _, kinds = await incident(sm, held["id"])
    assert kinds[-1] == "incident.waiting"

    await place(redis, world.far, at(1.8, 3.5))  # one of three: still waiting, and nothing is written again
    before = await event_count(sm)
    report = await sweep_once(sm, redis, dsettings)
    assert report.warming and report.incidents == 0 and await event_count(sm) == before

    await place(redis, world.mid, at(0.5, 2.3))
    await place(redis, world.near, at(0.55, 1.5))  # three of four on duty: the workers are back
    report = await sweep_once(sm, redis, dsettings)
    assert not report.warming and report.incidents == 1
    inc, orders, kinds = await incident(sm, held["id"])
    assert inc.status == "dispatched" and inc.attention_reason is None
    assert [o.worker_id for o in orders] == [world.near.worker_id]  # the nearest, not whoever reported first
    assert kinds[-2:] == ["order.offered", "incident.dispatched"] and "incident.needs_attention" not in kinds
    assert not await redis.exists(keys.WARMUP)


async def test_during_the_wait_departments_get_their_orders_at_once(world, dsettings, clean_db, redis) -> None:
    sm = make_sessionmaker(clean_db)
    await flush_and_rebuild(sm, redis, dsettings)
    async with app_client(dsettings) as client:
        fire = (await client.post("/api/v1/alerts", json=alert(category="fire", description="起火"),
                                  headers=world.op.headers)).json()
    assert fire["status"] == "dispatched" and [o["assignee_kind"] for o in fire["orders"]] == ["department"]
    assert fire["attention_reason"].startswith("waiting_for_workers")
    _, _, kinds = await incident(sm, fire["id"])
    assert kinds[-2:] == ["incident.dispatched", "incident.waiting"]
    for who, where in ((world.near, (0.55, 1.5)), (world.mid, (0.5, 2.3)), (world.far, (1.8, 3.5))):
        await place(redis, who, at(*where))
    report = await sweep_once(sm, redis, dsettings)
    assert report.restaffed == 1
    inc, orders, _ = await incident(sm, fire["id"])
    assert inc.status == "dispatched" and inc.attention_reason is None
    assert [(o.assignee_kind, o.role, o.worker_id) for o in orders] == [
        ("department", "lead", None), ("worker", "support", world.near.worker_id)]


async def test_the_wait_ends_after_one_presence_ttl_whoever_reported(world, dsettings, clean_db, redis) -> None:
    sm = make_sessionmaker(clean_db)
    await flush_and_rebuild(sm, redis, dsettings)
    await place(redis, world.near, at(0.55, 1.5))  # one of the three awaited
    await redis.hset(keys.WARMUP, "until", "1")  # as if presence_ttl_s had passed since the rebuild
    assert await presence.warming_up(redis, presence_ttl_s=dsettings.presence_ttl_s) is None
    async with app_client(dsettings) as client:
        r = await client.post("/api/v1/alerts", json=alert(category="noise"), headers=world.op.headers)
    assert r.json()["status"] == "dispatched" and r.json()["orders"][0]["worker_id"] == world.near.worker_id


async def test_a_rebuild_with_presence_intact_does_not_wait(world, dsettings, clean_db, redis) -> None:
    """`gridcmd rebuild-live` on a running system (positions still there): the first claim ends the wait."""
    sm = make_sessionmaker(clean_db)
    await redis.delete(keys.LIVE_MARKER)
    assert (await sweep_once(sm, redis, dsettings)).rebuilt
    async with app_client(dsettings) as client:
        r = await client.post("/api/v1/alerts", json=alert(category="noise"), headers=world.op.headers)
    assert r.json()["status"] == "dispatched"


async def test_no_worker_is_retried_when_a_worker_becomes_available(world, dsettings, clean_db, redis) -> None:
    sm = make_sessionmaker(clean_db)
    for who in (world.near, world.mid, world.far, world.grid):
        await presence.set_availability(redis, worker_id=who.worker_id, duty="off_duty")
    async with app_client(dsettings) as client:
        noise = (await client.post("/api/v1/alerts", json=alert(category="noise"), headers=world.op.headers)).json()
        fire = (await client.post("/api/v1/alerts", json=alert(category="fire", description="起火"),
                                  headers=world.op.headers)).json()
    assert noise["status"] == "needs_attention" and noise["attention_reason"].startswith("no_worker: 0 of 1")
    # The fire went to its department only: dispatched, and short of its worker.
    assert fire["status"] == "dispatched" and fire["attention_reason"].startswith("no_worker: 0 of 1")
    before = await event_count(sm)
    report = await sweep_once(sm, redis, dsettings)  # still nobody: nothing written, nothing published
    assert report.restaffed == 0 and await event_count(sm) == before

    await presence.set_availability(redis, worker_id=world.near.worker_id, duty="available")
    await presence.set_availability(redis, worker_id=world.mid.worker_id, duty="available")
    report = await sweep_once(sm, redis, dsettings)
    assert report.restaffed == 2
    inc, orders, kinds = await incident(sm, noise["id"])
    assert inc.status == "dispatched" and inc.attention_reason is None
    assert [(o.assignee_kind, o.role) for o in orders] == [("worker", "lead")]
    assert kinds[-2:] == ["order.offered", "incident.dispatched"]
    inc, orders, kinds = await incident(sm, fire["id"])
    assert inc.status == "dispatched" and inc.attention_reason is None
    assert [(o.assignee_kind, o.role) for o in orders] == [("department", "lead"), ("worker", "support")]
    await txhooks.drain()
    assert (await sweep_once(sm, redis, dsettings)).restaffed == 0  # staffed: not tried again


async def test_an_offer_declined_during_the_wait_goes_to_the_next_worker_once_they_are_back(world, dsettings,
                                                                                           clean_db, redis) -> None:
    sm = make_sessionmaker(clean_db)
    async with app_client(dsettings) as client:
        inc = (await client.post("/api/v1/alerts", json=alert(category="noise"), headers=world.op.headers)).json()
        [first] = inc["orders"]
        await txhooks.drain()
        await flush_and_rebuild(sm, redis, dsettings)
        r = await client.post(f"/api/v1/orders/{first['id']}/decline", json={"reason": "在医院"},
                              headers=world.near.headers)
        assert r.status_code == 200, r.text
        assert r.json()["next_order"] is None  # nobody to offer it to yet: waiting, visibly
    held, _, kinds = await incident(sm, inc["id"])
    assert held.attention_reason.startswith("waiting_for_workers") and kinds[-1] == "incident.waiting"
    for who, where in ((world.near, (0.55, 1.5)), (world.mid, (0.5, 2.3)), (world.far, (1.8, 3.5))):
        await place(redis, who, at(*where))
    report = await sweep_once(sm, redis, dsettings)
    assert report.restaffed == 1
    after, orders, _ = await incident(sm, inc["id"])
    assert after.attention_reason is None
    assert [(o.worker_id, o.status) for o in orders] == [(world.near.worker_id, "declined"),
                                                          (world.mid.worker_id, "sent")]  # the decliner excluded


async def test_a_wait_that_ends_with_nobody_alerts_the_operators(world, dsettings, clean_db, redis) -> None:
    sm = make_sessionmaker(clean_db)
    async with app_client(dsettings) as client:
        inc = (await client.post("/api/v1/alerts", json=alert(category="noise"), headers=world.op.headers)).json()
        await txhooks.drain()
        await flush_and_rebuild(sm, redis, dsettings)
        await client.post(f"/api/v1/orders/{inc['orders'][0]['id']}/decline", json={"reason": "x"},
                          headers=world.near.headers)
    await redis.delete(keys.WARMUP)  # the wait is over; nobody but the decliner reported
    await place(redis, world.near, at(0.55, 1.5))
    report = await sweep_once(sm, redis, dsettings)
    assert report.restaffed == 1
    after, _, kinds = await incident(sm, inc["id"])
    assert after.status == "needs_attention" and after.attention_reason.startswith("no_worker")
    assert kinds[-1] == "incident.needs_attention"


def test_recent_ids_remember_the_last_n() -> None:
    ids = RecentIds(3)
    assert [ids.add(i) for i in (1, 2, 3, 2, 4)] == [True, True, True, False, True]
    assert ids.add(1) and len(ids) == 3  # 1 was forgotten when 4 came
