"""Recovery: leaked claims, rolled-back transactions, lost timers, a flushed Redis, stuck incidents,
`gridcmd rebuild-live`, and several sweepers at once."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from geoalchemy2 import WKTElement
from sqlalchemy import func, select, text, update

from command.assign.loads import claim_nearest
from command.core import txhooks
from command.core.clock import utcnow
from command.core.db import make_sessionmaker
from command.core.models import Incident, Order
from command.ops.sweeper import sweep_once
from dispatch import assign, keys
from tests.dispatch_fixtures import at, holding_by_worker, place, redis_loads
from tests.dispatch_world import alert, build_world
from tests.dispatch_world import dispatch_client as app_client
from tests.environment import make_test_settings
from tests.procs import ROOT, server_env


@pytest.fixture(name="dsettings")
def recovery_settings():
    return make_test_settings(dispatch_background=False, sweeper_grace_s=0.0, claim_pending_ttl_s=0.2)


@pytest.fixture(name="world")
async def recovery_world(clean_db, redis, dsettings):
    return await build_world(clean_db, redis, dsettings)


async def test_leaked_claim_is_reconciled(world, dsettings, clean_db, redis) -> None:
    """A process that died between its Redis claim and its commit: the load has no order behind it."""
    async with app_client(dsettings) as client:
        await client.post("/api/v1/alerts", json=alert(category="noise"), headers=world.op.headers)
    lon, lat = at(0.5, 2.3)
    leaked = await assign.assign_nearest(redis, lon=lon, lat=lat, radius_m=100, need=1, presence_ttl_s=120,
                                         pending_ttl_s=0.2)
    assert leaked.worker_ids == [world.mid.worker_id]
    assert await redis_loads(redis) == {world.near.worker_id: 1, world.mid.worker_id: 1}
    sm = make_sessionmaker(clean_db)
    assert (await sweep_once(sm, redis, dsettings)).reconciled == 0  # not expired yet: may still commit
    await asyncio.sleep(0.3)
    report = await sweep_once(sm, redis, dsettings)
    assert report.reconciled == 1
    assert await redis_loads(redis) == {world.near.worker_id: 1} == await holding_by_worker(clean_db)
    assert await redis.zcard(keys.PENDING) == 0


async def test_rolled_back_transaction_gives_the_load_back(world, dsettings, clean_db, redis) -> None:
    lon, lat = at(0.5, 1.5)
    with pytest.raises(RuntimeError):
        async with make_sessionmaker(clean_db)() as s, s.begin():
            res = await claim_nearest(s, redis, settings=dsettings, lon=lon, lat=lat, radius_m=500, need=1)
            assert res.worker_ids == [world.near.worker_id]
            assert await redis_loads(redis) == {world.near.worker_id: 1}
            raise RuntimeError("the database write failed after the claim")
    await txhooks.drain()
    assert await redis_loads(redis) == {} and await redis.zcard(keys.PENDING) == 0


async def test_lost_ack_timer_is_redriven_from_postgresql(world, dsettings, clean_db, redis) -> None:
    async with app_client(dsettings) as client:
        inc = (await client.post("/api/v1/alerts", json=alert(category="noise"), headers=world.op.headers)).json()
    [order] = inc["orders"]
    await txhooks.drain()
    await redis.delete(keys.ACK_TIMERS)  # the timer is lost (Redis restarted without it, a worker died…)
    async with make_sessionmaker(clean_db)() as s, s.begin():
        await s.execute(update(Order).where(Order.id == order["id"]).values(ack_due_at=utcnow() - timedelta(seconds=5)))
    report = await sweep_once(make_sessionmaker(clean_db), redis, dsettings)
    assert report.offers == 1
    async with make_sessionmaker(clean_db)() as s:
        orders = list(await s.scalars(select(Order).where(Order.incident_id == inc["id"]).order_by(Order.id)))
    assert [(o.worker_id, o.status) for o in orders] == [(world.near.worker_id, "timed_out"),
                                                          (world.mid.worker_id, "sent")]
    await txhooks.drain()
    assert await redis.zscore(keys.ACK_TIMERS, str(orders[1].id)) is not None  # the new offer has its timer
    assert await redis_loads(redis) == {world.mid.worker_id: 1}


async def test_flushed_redis_is_rebuilt_and_dispatching_resumes(world, dsettings, clean_db, redis) -> None:
    async with app_client(dsettings) as client:
        first = (await client.post("/api/v1/alerts", json=alert(category="noise"), headers=world.op.headers)).json()
        await txhooks.drain()
        await redis.flushdb()
        # Accepted while the live state is gone: stored and acknowledged, left `located` for the sweeper.
        r = await client.post("/api/v1/alerts", json=alert(category="noise", description="停电"),
                              headers=world.op.headers)
        assert r.status_code == 201 and r.json()["status"] == "located" and r.json()["orders"] == []
        waiting = r.json()["id"]
        # The phones keep reporting.
        for who, where in ((world.near, (0.55, 1.5)), (world.mid, (0.5, 2.3)), (world.far, (1.8, 3.5))):
            resp = await client.post("/api/v1/workers/me/position", json={"lon": at(*where)[0], "lat": at(*where)[1]},
                                     headers=who.headers)
            assert resp.status_code == 200
    report = await sweep_once(make_sessionmaker(clean_db), redis, dsettings)
    assert report.rebuilt and report.incidents == 1
    async with make_sessionmaker(clean_db)() as s:
        redriven = await s.get(Incident, waiting)
        orders = list(await s.scalars(select(Order).where(Order.incident_id == waiting)))
    assert redriven.status == "dispatched"
    # near still holds the first alert's order (rebuilt from PostgreSQL) and has room for one more.
    assert [o.worker_id for o in orders] == [world.near.worker_id]
    assert await redis_loads(redis) == {world.near.worker_id: 2} == await holding_by_worker(clean_db)
    await txhooks.drain()
    timers = {int(m) for m in await redis.zrange(keys.ACK_TIMERS, 0, -1)}
    assert timers == {first["orders"][0]["id"], orders[0].id}


async def test_stuck_reported_incident_is_located_and_dispatched(world, dsettings, clean_db, redis) -> None:
    lon, lat = at(0.5, 1.5)
    async with make_sessionmaker(clean_db)() as s, s.begin():
        s.add(Incident(category_code="noise", description="崩溃前只存了这一条", status="reported", channel="app",
                       lon=lon, lat=lat, geom=WKTElement(f"POINT({lon} {lat})", srid=4326), region_path=[]))
    report = await sweep_once(make_sessionmaker(clean_db), redis, dsettings)
    assert report.incidents == 1
    async with make_sessionmaker(clean_db)() as s:
        inc = await s.scalar(select(Incident))
    assert inc.status == "dispatched" and inc.region_path == ["D", "SA", "CA1"]


async def test_two_sweepers_dispatch_each_incident_once(world, dsettings, clean_db, redis) -> None:
    async with app_client(dsettings) as client:
        await redis.delete(keys.LIVE_MARKER)  # alerts arrive while the live state is missing
        for i in range(6):
            body = alert((0.3 + 0.2 * i, 1.5), category="noise", description=f"第{i}件")
            assert (await client.post("/api/v1/alerts", json=body, headers=world.op.headers)).json()["status"] == (
                "located")
    for who, where in ((world.near, (0.55, 1.5)), (world.mid, (0.5, 2.3)), (world.far, (1.8, 3.5))):
        await place(redis, who, at(*where))
    sm = make_sessionmaker(clean_db)
    reports = await asyncio.gather(sweep_once(sm, redis, dsettings), sweep_once(sm, redis, dsettings))
    assert sum(r.incidents for r in reports) == 6
    async with sm() as s:
        per_incident = dict((await s.execute(text(
            "SELECT incident_id, count(*) FROM orders GROUP BY incident_id"))).all())
        statuses = list(await s.scalars(select(Incident.status)))
    assert sorted(statuses) == ["dispatched"] * 6 and set(per_incident.values()) == {1}
    assert await redis_loads(redis) == await holding_by_worker(clean_db)
    assert max((await redis_loads(redis)).values()) <= 2


async def test_rebuild_live_command(world, dsettings, clean_db, redis) -> None:
    async with app_client(dsettings) as client:
        await client.post("/api/v1/alerts", json=alert(category="noise"), headers=world.op.headers)
    await redis.hset(keys.LOAD, mapping={str(world.near.worker_id): 0, str(world.far.worker_id): 2})
    await redis.hset(keys.DUTY, str(world.mid.worker_id), "off_duty")
    env = {**os.environ, **server_env(dsettings)}
    gridcmd = "import sys; from command.cli.registry import main; sys.exit(main(['rebuild-live']))"
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", gridcmd, cwd=ROOT, env=env,
                                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    assert "rebuilt" in out.decode()
    assert await redis_loads(redis) == {world.near.worker_id: 1} == await holding_by_worker(clean_db)
    assert await redis.hget(keys.DUTY, str(world.mid.worker_id)) == "available"
    async with make_sessionmaker(clean_db)() as s:
        assert await s.scalar(select(func.count()).select_from(Order)) == 1
