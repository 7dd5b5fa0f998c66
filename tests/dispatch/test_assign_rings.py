"""assign.lua searches growing circles (250 m, x2 up to the radius) instead of sorting everyone within the full
radius: the outcome must be exactly that of one nearest-first search over the whole radius."""

from __future__ import annotations

import math

from redis.asyncio import Redis

from dispatch import keys
from dispatch.assign import assign_nearest
from dispatch.presence import WorkerSeed, rebuild, report_positions

LON, LAT = 118.78, 32.05
TTL = 600.0


def east(metres: float) -> float:
    """The longitude `metres` east of (LON, LAT)."""
    return LON + metres / (111_320.0 * math.cos(math.radians(LAT)))


async def _world(redis: Redis, spots: dict[int, float], *, full: set[int] = frozenset()) -> None:
    await rebuild(redis, workers=[WorkerSeed(worker_id=w, max_load=1, on_duty=True) for w in spots],
                  loads={w: 1 for w in full}, ack_due_ms={})
    for w, metres in spots.items():
        await report_positions(redis, worker_id=w, positions=[(east(metres), LAT, None)])


async def _claim(redis: Redis, need: int, radius: float = 3000.0) -> list[int]:
    res = await assign_nearest(redis, lon=LON, lat=LAT, radius_m=radius, need=need, presence_ttl_s=TTL,
                               pending_ttl_s=60.0)
    return res.worker_ids


async def test_nearest_eligible_beyond_the_first_circle(redis: Redis) -> None:
    await _world(redis, {1: 100.0, 2: 600.0, 3: 2500.0, 4: 2900.0}, full={1})
    assert await _claim(redis, 2) == [2, 3]
    assert await _claim(redis, 5) == [4]  # 1 is full, 2 and 3 now too
    assert int(await redis.hget(keys.LOAD, "4")) == 1


async def test_a_crowded_first_circle_of_full_workers_is_scanned_past(redis: Redis) -> None:
    crowd = {w: 5.0 * w for w in range(1, 41)}  # 40 workers within 200 m, every one at max load
    await _world(redis, {**crowd, 99: 1500.0, 98: 1400.0}, full=set(crowd))
    assert await _claim(redis, 1) == [98]
    assert await _claim(redis, 1) == [99]
    assert await _claim(redis, 1) == []


async def test_nobody_beyond_the_radius_and_order_within_a_circle(redis: Redis) -> None:
    await _world(redis, {1: 3100.0, 2: 120.0, 3: 60.0, 4: 240.0})
    assert await _claim(redis, 4) == [3, 2, 4]  # nearest first; 1 is outside the 3 km radius
    assert await _claim(redis, 1, radius=3200.0) == [1]
