"""Live state split by district (dispatch.shards): a search near a border reads the neighbours' spaces and claims
on the owner's; concurrent claims across spaces never double book. Against single Redis and, with
GRIDCMD_TEST_REDIS_CLUSTER, against a Redis Cluster where the three districts sit on three different masters."""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter

import pytest
from redis.asyncio import Redis
from redis.crc import key_slot

from dispatch import keys, presence, shards
from dispatch.assign import LiveStateMissing, PresenceWarmingUp
from dispatch.presence import WorkerSeed
from tests.environment import TEST_REDIS_CLUSTER, ready, redis_client

LON, LAT = 118.78, 32.05
TTL = 120.0


def _three_codes() -> list[str]:
    """Three district codes whose tags fall in the three thirds of the slot range (three masters of a 3-master
    cluster made by scripts/redis-cluster.sh, which gives each master a third)."""
    out: dict[int, str] = {}
    for n in range(320100, 320200):
        third = key_slot(keys.district_tag(str(n)).encode()) * 3 // 16384
        out.setdefault(third, str(n))
    return [out[0], out[1], out[2]]


CODES = _three_codes()
SPACES = [keys.district_space(c) for c in CODES]


def east(metres: float) -> float:
    return LON + metres / (111_320.0 * math.cos(math.radians(LAT)))


async def _world(redis: Redis, homes: dict[int, tuple[int, float]], *, max_load: int = 1) -> None:
    """Workers (id → (space index, metres east of the point)), each in its home space, present and available."""
    for i, space in enumerate(SPACES):
        mine = [w for w, (s, _) in homes.items() if s == i]
        await presence.rebuild(redis, workers=[WorkerSeed(w, max_load, True) for w in mine], loads={},
                               ack_due_ms={}, space=space)
        await presence.report_many(redis, [(w, east(homes[w][1]), LAT, time.time()) for w in mine],
                                   space=space)


async def _claim(redis: Redis, need: int = 1, spaces: list[keys.Space] | None = None,
                 **kw: object) -> shards.ShardedResult:
    return await shards.assign_nearest_across(
        redis, spaces=spaces or SPACES, lon=LON, lat=LAT, radius_m=float(kw.pop("radius_m", 3000.0)), need=need,
        presence_ttl_s=TTL, pending_ttl_s=30, **kw)  # type: ignore[arg-type]


async def test_the_three_districts_are_three_slots_and_on_a_cluster_three_masters(redis) -> None:
    slots = {key_slot(s.load.encode()) for s in SPACES}
    assert len(slots) == 3 and all(key_slot(s.positions.encode()) == key_slot(s.load.encode()) for s in SPACES)
    if TEST_REDIS_CLUSTER:
        owners = {redis.get_node_from_key(s.load).name for s in SPACES}
        assert len(owners) == 3


async def test_nearest_across_borders_claimed_on_the_owner(redis) -> None:
    # own district's worker 1 at 900 m; the neighbours' 2 at 100 m and 3 at 400 m
    await _world(redis, {1: (0, 900.0), 2: (1, 100.0), 3: (2, 400.0)})
    res = await _claim(redis, need=2)
    assert res.worker_ids == [2, 3]
    assert [c.space for c in res.claims] == [SPACES[1], SPACES[2]]
    assert abs(res.claims[0].distance_m - 100.0) < 1.0
    assert await presence.loads(redis, space=SPACES[1]) == {2: 1}
    assert await presence.loads(redis, space=SPACES[2]) == {3: 1}
    assert await presence.loads(redis, space=SPACES[0]) == {}
    assert [await redis.zscore(s.pending, res.token) is not None for s in SPACES] == [False, True, True]
    await shards.confirm_across(redis, res)
    assert [await redis.zcard(s.pending) for s in SPACES] == [0, 0, 0]
    # max load 1: 2 and 3 are full now, so the next claim takes 1
    assert (await _claim(redis)).worker_ids == [1]
    assert (await _claim(redis)).worker_ids == []


async def test_preferred_exclude_radius_and_release(redis) -> None:
    await _world(redis, {1: (0, 900.0), 2: (1, 100.0), 3: (2, 400.0), 4: (1, 5000.0)})
    assert (await _claim(redis, preferred=[1])).worker_ids == [1]      # own grid first, though farther
    assert (await _claim(redis, preferred=[3, 77])).worker_ids == [3]  # a neighbour's worker may be preferred too
    res = await _claim(redis, need=3, exclude=[4], radius_m=6000.0)
    assert res.worker_ids == [2]                                        # 1 and 3 full, 4 beyond the radius
    await shards.release_across(redis, res)
    assert await presence.loads(redis, space=SPACES[1]) == {2: 0}
    await shards.release_across(redis, res)                              # at most once
    assert await presence.loads(redis, space=SPACES[1]) == {2: 0}
    assert (await _claim(redis, need=3, radius_m=6000.0)).worker_ids == [2, 4]  # 1 and 3 are full


async def test_busy_away_and_ineligible_are_skipped_and_widening_finds_more(redis) -> None:
    # 40 workers nearer than the one eligible worker, all busy: the search must widen past the first COUNT.
    homes = {w: (w % 3, 10.0 * w) for w in range(1, 41)}
    homes[99] = (2, 1500.0)
    await _world(redis, homes)
    for w, (s, _) in homes.items():
        if w != 99:
            await presence.set_availability(redis, worker_id=w, duty="busy", space=SPACES[s])
    assert (await _claim(redis)).worker_ids == [99]


async def test_own_space_not_live_refuses_neighbour_not_live_is_skipped(redis) -> None:
    await _world(redis, {1: (0, 900.0), 2: (1, 100.0)})
    await redis.delete(SPACES[1].live_marker)                            # the neighbour is being rebuilt
    assert (await _claim(redis)).worker_ids == [1]
    await redis.delete(SPACES[0].live_marker)
    with pytest.raises(LiveStateMissing):
        await _claim(redis)


async def test_own_space_warming_up_claims_nothing(redis) -> None:
    await _world(redis, {1: (0, 900.0), 2: (1, 100.0)})
    await presence.rebuild(redis, workers=[WorkerSeed(1, 1, True), WorkerSeed(5, 1, True)], loads={}, ack_due_ms={},
                           presence_ttl_s=TTL, warmup_quorum=1.0, space=SPACES[0])
    with pytest.raises(PresenceWarmingUp):
        await _claim(redis)
    assert await presence.loads(redis, space=SPACES[1]) == {}


async def test_one_space_is_the_single_script(redis) -> None:
    await _world(redis, {1: (0, 900.0), 2: (1, 100.0)})
    res = await _claim(redis, spaces=[SPACES[0]])
    assert res.worker_ids == [1] and res.claims[0].space == SPACES[0]
    with pytest.raises(ValueError):
        await shards.assign_nearest_across(redis, spaces=[], lon=LON, lat=LAT, radius_m=1, need=1,
                                           presence_ttl_s=TTL, pending_ttl_s=30)
    assert (await _claim(redis, need=0)).token is None


async def test_concurrent_claims_across_shards_never_double_book(settings) -> None:
    """300 claims from 8 clients, 100 in flight at once, at points along the borders, each searching all three
    districts: 60 workers x max load 2 spread over the three spaces (more demand than room). Exactly 120 claims,
    none over 2, each space's loads = its claims, no pending token left."""
    clients = [redis_client(settings.redis_url) for _ in range(8)]
    try:
        r0 = clients[0]
        homes = {w: (w % 3, 20.0 * w) for w in range(1, 61)}
        await _world(r0, homes, max_load=2)

        await ready(*clients)
        gate = asyncio.Semaphore(100)

        async def one(i: int) -> list[tuple[int, keys.Space]]:
            async with gate:
                return await claim_one(i)

        async def claim_one(i: int) -> list[tuple[int, keys.Space]]:
            order = SPACES[i % 3:] + SPACES[:i % 3]  # each border point has its own district first
            res = await shards.assign_nearest_across(
                clients[i % 8], spaces=order, lon=east(20.0 * (i % 60)), lat=LAT, radius_m=1500.0,
                need=1 + i % 2, presence_ttl_s=TTL, pending_ttl_s=30)
            await shards.confirm_across(clients[i % 8], res)
            return [(c.worker_id, c.space) for c in res.claims]

        results = await asyncio.gather(*(one(i) for i in range(300)))
        claimed = Counter(w for r in results for w, _ in r)
        assert sum(claimed.values()) == 120 and set(claimed.values()) == {2} and len(claimed) == 60
        for i, space in enumerate(SPACES):
            stored = {w: n for w, n in (await presence.loads(r0, space=space)).items() if n}
            assert stored == {w: 2 for w, (s, _) in homes.items() if s == i}
            assert await r0.zcard(space.pending) == 0
        assert all(space == SPACES[homes[w][0]] for r in results for w, space in r)  # claimed where it lives
    finally:
        for c in clients:
            await c.aclose()
