"""Workers' live state in the benchmark's Redis, through dispatch/: the rebuild (duty, max load, live marker)
from the workers' durable rows, then every worker's position through `dispatch.presence.report_positions`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import numpy as np
from redis.asyncio import Redis

from dispatch import keys
from dispatch.presence import WorkerSeed, rebuild, report_positions

REBUILD_CHUNK = 50_000


async def seed_live(redis: Redis, w: dict[str, np.ndarray], *, max_load: int = 2,
                    log: Callable[[str], None] = print) -> dict:
    """Replace the live state: every generated worker available with `max_load`, at its generated position."""
    n = len(w["lon"])
    t0 = time.perf_counter()
    await redis.delete(*keys.ALL)
    # One MULTI per chunk keeps each command small; the last chunk's rebuild writes the live marker.
    # rebuild() deletes the rebuilt keys first, so chunks after the first go in with plain HSETs.
    seeds = [WorkerSeed(worker_id=i + 1, max_load=max_load, on_duty=True) for i in range(min(n, REBUILD_CHUNK))]
    await rebuild(redis, workers=seeds, loads={}, ack_due_ms={})
    for start in range(REBUILD_CHUNK, n, REBUILD_CHUNK):
        ids = range(start + 1, min(n, start + REBUILD_CHUNK) + 1)
        async with redis.pipeline(transaction=True) as pipe:
            pipe.hset(keys.MAX_LOAD, mapping={str(i): max_load for i in ids})
            pipe.hset(keys.DUTY, mapping={str(i): "available" for i in ids})
            await pipe.execute()
    t_rebuild = time.perf_counter() - t0
    rate = await report_all(redis, w["lon"], w["lat"], concurrency=64)
    log(f"  live state for {n:,d} workers in {t_rebuild:.1f} s; positions reported at {rate:,.0f}/s")
    return {"workers": n, "rebuild_s": round(t_rebuild, 2), "positions_per_s": round(rate, 1)}


async def report_all(redis: Redis, lon: np.ndarray, lat: np.ndarray, *, concurrency: int) -> float:
    """Report every worker's position (worker i+1 at lon[i], lat[i]); returns reports per second."""
    n = len(lon)
    counter = iter(range(n))
    lon_l, lat_l = lon.tolist(), lat.tolist()

    async def client() -> None:
        for i in counter:
            await report_positions(redis, worker_id=i + 1, positions=[(lon_l[i], lat_l[i], None)])

    t0 = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return n / (time.perf_counter() - t0)


async def reset_loads(redis: Redis) -> None:
    """Between phases: nobody holds anything (the phases that claim do not write PostgreSQL orders)."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.delete(keys.LOAD, keys.PENDING, keys.ACK_TIMERS)
        await pipe.execute()
