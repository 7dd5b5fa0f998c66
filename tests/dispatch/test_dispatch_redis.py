"""dispatch/ against a real Redis: the Lua scripts' rules, atomicity under concurrency, timers, releases."""

from __future__ import annotations

import asyncio
import time

import pytest
from redis.asyncio import Redis

from dispatch import assign, keys, presence, timers
from dispatch.assign import LiveStateMissing
from dispatch.presence import WorkerSeed
from tests.dispatch_fixtures import at, metres
from tests.environment import ready, redis_client

TTL = 120.0


async def live(redis: Redis, n: int, *, max_load: int = 2, spread: float = 1.0) -> list[tuple[float, float]]:
    """n workers (ids 1..n) on a diagonal line, registered, present, available."""
    await presence.rebuild(redis, workers=[WorkerSeed(i, max_load, True) for i in range(1, n + 1)], loads={},
                           ack_due_ms={})
    where = [at(i * spread / n, i * spread / n) for i in range(1, n + 1)]
    for i, (lon, lat) in enumerate(where, start=1):
        await presence.report_positions(redis, worker_id=i, positions=[(lon, lat, None)])
    return where


async def claim(redis: Redis, point: tuple[float, float], need: int = 1, **kw: object) -> list[int]:
    res = await assign.assign_nearest(redis, lon=point[0], lat=point[1], radius_m=kw.pop("radius_m", 5000.0),
                                      need=need, presence_ttl_s=TTL, pending_ttl_s=30, **kw)
    return res.worker_ids


async def test_nearest_first_with_distances(redis) -> None:
    where = await live(redis, 5)
    res = await assign.assign_nearest(redis, lon=where[2][0], lat=where[2][1], radius_m=5000, need=3,
                                      presence_ttl_s=TTL, pending_ttl_s=30)
    assert res.worker_ids[0] == 3 and set(res.worker_ids) == {2, 3, 4}
    for c in res.claims:
        assert abs(c.distance_m - metres(where[2], where[c.worker_id - 1])) < 1.0
    assert await presence.loads(redis) == {2: 1, 3: 1, 4: 1}
    assert await redis.zcard(keys.PENDING) == 1


async def test_radius_exclusion_and_preferred(redis) -> None:
    where = await live(redis, 5, spread=2.0)
    assert await claim(redis, where[0], radius_m=10) == [1]
    assert await claim(redis, where[0], radius_m=10) == [1]  # second slot of max load 2
    assert await claim(redis, where[0], radius_m=10) == []   # full, nobody else that close
    assert await claim(redis, where[0], exclude=[2]) == [3]
    assert await claim(redis, where[0], preferred=[5]) == [5]  # farther, but the incident's own grid
    assert await claim(redis, where[0], preferred=[5], radius_m=100) == []  # preferred only within the radius


async def test_duty_presence_and_unknown_workers_are_skipped(redis) -> None:
    where = await live(redis, 3)
    await presence.set_availability(redis, worker_id=1, duty="busy")
    await presence.set_availability(redis, worker_id=2, duty="off_duty")
    await redis.zadd(keys.SEEN, {"3": time.time() - TTL - 5})  # no report for longer than the ttl
    await redis.geoadd(keys.POSITIONS, [where[0][0], where[0][1], "99"])  # has a position, no live state
    assert await claim(redis, where[0], need=4) == []
    _, statuses = await assign.claim_workers(redis, worker_ids=[1, 2, 3, 99], presence_ttl_s=TTL, pending_ttl_s=30)
    assert statuses == {1: "busy", 2: "off_duty", 3: "away", 99: "unknown"}
    # A fresh report makes 3 present again; a late one (older timestamp) changes nothing.
    assert (await presence.report_positions(redis, worker_id=3, positions=[(*where[2], None)])).stored
    old = await presence.report_positions(redis, worker_id=3, positions=[(where[0][0], where[0][1], time.time() - 60)])
    assert not old.stored
    assert await claim(redis, where[0]) == [3]


async def test_no_worker_exceeds_max_load_under_concurrency(settings) -> None:
    """400 concurrent claims over 8 connections for 50 workers × max 2: exactly 100 claims, none over 2."""
    clients = [redis_client(settings.redis_url) for _ in range(8)]
    try:
        where = await live(clients[0], 50)
        await ready(*clients)
        results = await asyncio.gather(*(claim(clients[i % 8], where[i % 50]) for i in range(400)))
        claimed = [w for r in results for w in r]
        loads = await presence.loads(clients[0])
        assert len(claimed) == 100 and max(loads.values()) == 2 and sum(loads.values()) == 100
        assert all(claimed.count(w) == 2 for w in range(1, 51))
    finally:
        for c in clients:
            await c.aclose()


async def test_missing_live_state_refuses_claims(redis) -> None:
    where = await live(redis, 2)
    await redis.delete(keys.LIVE_MARKER)
    with pytest.raises(LiveStateMissing):
        await claim(redis, where[0])
    with pytest.raises(LiveStateMissing):
        await assign.claim_workers(redis, worker_ids=[1], presence_ttl_s=TTL, pending_ttl_s=30)
    assert await presence.loads(redis) == {}


async def test_releases_apply_at_most_once(redis) -> None:
    where = await live(redis, 2)
    res = await assign.assign_nearest(redis, lon=where[0][0], lat=where[0][1], radius_m=5000, need=1,
                                      presence_ttl_s=TTL, pending_ttl_s=30)
    # Undoing a rolled-back claim: once only.
    assert await assign.release(redis, token=res.token, worker_ids=res.worker_ids)
    assert not await assign.release(redis, token=res.token, worker_ids=res.worker_ids)
    assert await presence.loads(redis) == {1: 0}
    token = await assign.reserve_release(redis, pending_ttl_s=30)
    assert await assign.release(redis, token=token, worker_ids=[1])
    assert await presence.loads(redis) == {1: 0}  # never below zero
    # A reconcile clears pending tokens: a release arriving after it must not apply.
    token = await assign.reserve_release(redis, pending_ttl_s=30)
    await presence.set_loads(redis, loads={1: 1})
    assert not await assign.release(redis, token=token, worker_ids=[1])
    assert await presence.loads(redis) == {1: 1}
    # Confirming a token (its transaction committed a claim) leaves the load as it is.
    res = await assign.assign_nearest(redis, lon=where[0][0], lat=where[0][1], radius_m=5000, need=1,
                                      presence_ttl_s=TTL, pending_ttl_s=30)
    await assign.confirm(redis, [res.token])
    assert not await assign.release(redis, token=res.token, worker_ids=res.worker_ids)
    assert await presence.loads(redis) == {1: 2}


async def test_pending_tokens_expire(redis) -> None:
    where = await live(redis, 1)
    await assign.assign_nearest(redis, lon=where[0][0], lat=where[0][1], radius_m=5000, need=1,
                                presence_ttl_s=TTL, pending_ttl_s=0.05)
    assert await presence.expired_pending(redis) == 0
    await asyncio.sleep(0.1)
    assert await presence.expired_pending(redis) == 1


async def test_each_due_timer_pops_once(settings) -> None:
    clients = [redis_client(settings.redis_url) for _ in range(4)]
    try:
        await ready(*clients)
        now_ms = int(time.time() * 1000)
        await timers.schedule(clients[0], {i: now_ms - 10 for i in range(1, 201)} | {999: now_ms + 60_000})
        popped = await asyncio.gather(*(timers.pop_due(clients[i % 4], limit=7) for i in range(60)))
        flat = [o for p in popped for o in p]
        assert sorted(flat) == list(range(1, 201))  # each exactly once, the future one untouched
        assert await timers.next_due_ms(clients[0]) == now_ms + 60_000
        await timers.cancel(clients[0], [999])
        assert await timers.next_due_ms(clients[0]) is None
    finally:
        for c in clients:
            await c.aclose()


async def test_rebuild_keeps_positions_and_seeds_homes(redis) -> None:
    await live(redis, 1)
    before = await redis.geopos(keys.POSITIONS, "1")
    seeds = [WorkerSeed(1, 3, False, home=at(3, 3)), WorkerSeed(2, 2, True, home=at(2, 2))]
    await presence.rebuild(redis, workers=seeds, loads={1: 1}, ack_due_ms={7: 123})
    assert await redis.geopos(keys.POSITIONS, "1") == before  # a reported position beats the home
    state = await presence.live_state(redis, worker_ids=[1, 2], presence_ttl_s=TTL)
    assert (state[1].duty, state[1].load, state[1].max_load, state[1].availability) == ("off_duty", 1, 3, "off_duty")
    assert state[2].lon is not None and not state[2].present and state[2].availability == "away"
    assert await redis.zscore(keys.ACK_TIMERS, "7") == 123
