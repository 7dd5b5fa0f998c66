"""Assignment: nearest available worker + atomic claim (dispatch.assign.assign_nearest, then confirm), under many
concurrent clients; then the double-booking check; beside it, the same GEOSEARCH through redis-benchmark.

The judged latency is the claim's: the one assign_nearest call that finds the nearest eligible workers and raises
their loads atomically (what stands between an alert and its order). `confirm` removes the claim's pending token
once the caller's database transaction is known committed: bookkeeping after the decision, timed apart
(`with_confirm`: claim + confirm back to back, what each client here waits for)."""

from __future__ import annotations

import time
from collections import Counter

import numpy as np
from redis.asyncio import Redis

from bench.floor import ratio, run_redis_benchmark
from bench.runner import closed_loop
from bench.stats import summary
from dispatch import keys
from dispatch.assign import assign_nearest, confirm

RADIUS_M = 3000.0  # the default routing rule's search radius
FIRST_RADIUS_M = 250.0  # assign.lua's first circle (it widens x4 up to RADIUS_M while too few are eligible)
SCAN = 16  # assign.lua's first GEOSEARCH COUNT for one worker: max(16, need * 8)


def alert_points(w: dict[str, np.ndarray], n: int, rng: np.random.Generator, spread_m: float = 300.0) -> np.ndarray:
    """Alerts happen where people are: around random workers' positions."""
    idx = rng.integers(0, len(w["lon"]), n)
    lat = w["lat"][idx] + rng.normal(0, spread_m / 110_574.0, n)
    lon = w["lon"][idx] + rng.normal(0, spread_m / (111_320.0 * np.cos(np.radians(lat))), n)
    return np.column_stack((lon, lat))


async def run(redis: Redis, redis_url: str, w: dict[str, np.ndarray], *, clients: int, seconds: float,
              max_count: int, presence_ttl_s: float, max_load: int, seed: int) -> dict:
    pts = alert_points(w, max_count, np.random.default_rng(seed)).tolist()
    claimed: list[int] = []
    claim_s: list[float] = []
    empty = 0

    async def call(i: int) -> None:
        nonlocal empty
        lon, lat = pts[i]
        t0 = time.perf_counter()
        res = await assign_nearest(redis, lon=lon, lat=lat, radius_m=RADIUS_M, need=1,
                                   presence_ttl_s=presence_ttl_s, pending_ttl_s=60.0)
        claim_s.append(time.perf_counter() - t0)
        if res.token:
            await confirm(redis, [res.token])
            claimed.extend(res.worker_ids)
        else:
            empty += 1

    s = await closed_loop(call, clients=clients, seconds=seconds, max_count=max_count)
    out = summary(claim_s, s.wall, errors=s.errors)
    out["with_confirm"] = summary(s.latencies, s.wall, errors=s.errors)
    out.update(clients=clients, claims=len(claimed), nobody_in_range=empty, first_error=s.first_error)
    out["claims_per_s"] = round(len(claimed) / s.wall, 1) if s.wall else 0.0
    out["double_bookings"] = await double_bookings(redis, claimed, max_load)
    requests = max(5_000, int(out["count"]))
    out["floor"] = geosearch_floor(redis_url, pts[:4], FIRST_RADIUS_M, clients=clients, requests=requests)
    out["ratio_to_floor"] = ratio(out["per_s"], out["floor"]["per_s"])
    # For reference: one GEOSEARCH over the whole radius, what the script ran before it searched growing circles.
    out["floor_full_radius"] = geosearch_floor(redis_url, pts[:4], RADIUS_M, clients=clients, requests=requests)
    return out


async def double_bookings(redis: Redis, claimed: list[int], max_load: int) -> dict:
    """Checked after the run: no worker claimed more than its max load, and Redis's loads equal the claims."""
    per_worker = Counter(claimed)
    over = {w: c for w, c in per_worker.items() if c > max_load}
    stored = {int(k): int(v) for k, v in (await redis.hgetall(keys.LOAD)).items() if int(v)}
    mismatched = sum(1 for w in set(stored) | set(per_worker) if stored.get(w, 0) != per_worker.get(w, 0))
    return {"workers_claimed": len(per_worker), "over_max_load": len(over), "load_mismatches": mismatched,
            "max_claims_per_worker": max(per_worker.values(), default=0), "ok": not over and not mismatched}


def geosearch_floor(redis_url: str, points: list[list[float]], radius_m: float, *, clients: int,
                    requests: int) -> dict:
    """assign.lua's first GEOSEARCH, the same key and arguments, at a few of the run's own alert points."""
    runs = []
    per = max(1, requests // len(points))
    for lon, lat in points:
        runs.append(run_redis_benchmark(redis_url, [
            "GEOSEARCH", keys.POSITIONS, "FROMLONLAT", f"{lon:.6f}", f"{lat:.6f}", "BYRADIUS", str(radius_m), "m",
            "ASC", "COUNT", str(SCAN), "WITHDIST"], clients=clients, requests=per))
    total_time = sum(per / r["per_s"] for r in runs)
    return {"per_s": round(per * len(runs) / total_time, 1),
            "p50_ms": round(float(np.mean([r["p50_ms"] for r in runs])), 3),
            "p99_ms": round(max(r["p99_ms"] for r in runs), 3), "points": len(points), "requests": per * len(runs),
            "clients": clients, "radius_m": radius_m, "tool": "redis-benchmark GEOSEARCH"}
