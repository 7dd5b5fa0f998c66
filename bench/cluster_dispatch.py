"""Claims/s and positions/s at the dispatch level on single Redis and on a Redis Cluster, in the same run
(docs/cluster.md). No web server, no PostgreSQL: the Redis side of assignment and of position ingest.

    .venv/bin/python -m bench.cluster_dispatch --single redis://127.0.0.1:6379/5 \
        --cluster redis+cluster://127.0.0.1:7100,127.0.0.1:7101,127.0.0.1:7102/ [--workers 30000] [--seconds 10]

Three setups: single Redis (`{gc}`), the cluster with the one `{gc}` tag (every dispatch key on one master), and
the cluster with the workers spread over three district spaces (one per master; claims through
`dispatch.shards.assign_nearest_across` over the point's district and the districts its 3 km circle touches,
positions to each worker's home space).
Claims: `--procs` driver processes of `--clients` closed-loop tasks each, claim + confirm, then the double-booking
check (claims per worker ≤ max load, each space's loads = its claims). Positions: as many processes and tasks,
sending report.lua batches of `--batch` reports (what the position batcher sends under load). Each master's Redis CPU
per operation is measured beside the rates. Prints one JSON document. Flushes the databases it is given: never point
it at a shared database."""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import time
from collections import Counter
from collections.abc import Awaitable
from typing import cast

import numpy as np
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from bench.runner import closed_loop
from bench.stats import summary
from command.core.redis_client import cluster_nodes
from dispatch import keys, presence, shards
from dispatch.presence import WorkerSeed

BOX = (118.40, 31.80, 119.20, 32.40)  # about 75 km × 67 km: a city
RADIUS_M = 3000.0
TTL = 600.0


def client(url: str, max_connections: int) -> Redis:
    if url.startswith("redis+cluster://"):
        return cast(Redis, RedisCluster(startup_nodes=cluster_nodes(url), decode_responses=True,
                                        max_connections=max_connections))
    return Redis.from_url(url, decode_responses=True, max_connections=max_connections)


def spaces_for(n_spaces: int) -> list[keys.Space]:
    if n_spaces == 1:
        return [keys.DEFAULT]
    from tests.dispatch.test_shards import CODES  # three codes whose tags fall on three different masters
    return [keys.district_space(c) for c in CODES[:n_spaces]]


def home_of(lon: np.ndarray, n_spaces: int) -> np.ndarray:
    """Districts as vertical strips of the box (a stand-in for district polygons)."""
    return np.minimum(((lon - BOX[0]) / (BOX[2] - BOX[0]) * n_spaces).astype(int), n_spaces - 1)


async def redis_cpu(redis: Redis) -> dict[str, float]:
    """CPU seconds (user + sys) each master has used so far (INFO cpu). Only meaningful on a Redis of the bench's own:
    a shared server counts other users' work too."""
    if isinstance(redis, RedisCluster):
        per = await redis.info("cpu", target_nodes=RedisCluster.PRIMARIES)
    else:
        per = {"single": await redis.info("cpu")}
    return {n: float(i["used_cpu_user"]) + float(i["used_cpu_sys"]) for n, i in per.items()}


async def metered(redis: Redis, run: Awaitable[dict], count_key: str) -> dict:
    """The run's figures plus each master's CPU during it, per operation (µs), and the busiest master's share."""
    before = await redis_cpu(redis)
    out = await run
    after = await redis_cpu(redis)
    used = {n: after[n] - before[n] for n in after}
    n = max(1, int(out[count_key]))
    out["redis_cpu_s"] = {k: round(v, 3) for k, v in used.items()}
    out["redis_cpu_us_per_op_busiest_master"] = round(max(used.values()) / n * 1e6, 1)
    out["redis_cpu_us_per_op_all_masters"] = round(sum(used.values()) / n * 1e6, 1)
    return out


async def setup(redis: Redis, spaces: list[keys.Space], lon: np.ndarray, lat: np.ndarray, max_load: int) -> None:
    await redis.flushdb()
    home = home_of(lon, len(spaces))
    now = time.time()
    for s, space in enumerate(spaces):
        ids = [int(i) for i in np.flatnonzero(home == s) + 1]
        await presence.rebuild(redis, workers=[WorkerSeed(w, max_load, True) for w in ids], loads={}, ack_due_ms={},
                               space=space)
        for k in range(0, len(ids), 1000):
            await presence.report_many(redis, [(w, float(lon[w - 1]), float(lat[w - 1]), now) for w in
                                               ids[k:k + 1000]], space=space)


def _circle(pts: np.ndarray, n_spaces: int) -> tuple[list[int], list[int], list[int]]:
    """The circle rule: the point's district (strip) and the first and last strips its search circle touches."""
    dlon = RADIUS_M / (111_320.0 * np.cos(np.radians(pts[:, 1])))
    return (home_of(pts[:, 0], n_spaces).tolist(), home_of(pts[:, 0] - dlon, n_spaces).tolist(),
            home_of(pts[:, 0] + dlon, n_spaces).tolist())


async def _claims_one_process(url: str, n_spaces: int, pts: list[list[float]], clients: int,
                              seconds: float) -> dict:
    redis = await ready_client(url, clients)
    spaces = spaces_for(n_spaces)
    strip, west, east = _circle(np.array(pts), n_spaces)
    claimed: list[int] = []
    t_claim: list[float] = []
    crossing = 0

    async def call(i: int) -> None:
        nonlocal crossing
        lon, lat = pts[i]
        own = strip[i]
        order = [spaces[own], *(spaces[k] for k in range(west[i], east[i] + 1) if k != own)]
        crossing += len(order) > 1
        t0 = time.perf_counter()
        res = await shards.assign_nearest_across(redis, spaces=order, lon=lon, lat=lat, radius_m=RADIUS_M, need=1,
                                                 presence_ttl_s=TTL, pending_ttl_s=60.0)
        t_claim.append(time.perf_counter() - t0)
        await shards.confirm_across(redis, res)
        claimed.extend(c.worker_id for c in res.claims)

    try:
        s = await closed_loop(call, clients=clients, seconds=seconds, max_count=len(pts))
    finally:
        await redis.aclose()
    return {"claimed": claimed, "latencies": t_claim, "wall": s.wall, "errors": s.errors,
            "first_error": s.first_error, "crossing": crossing}


async def _positions_one_process(url: str, n_spaces: int, lon: list[float], lat: list[float], clients: int,
                                 seconds: float, batch: int, seed: int) -> dict:
    redis = await ready_client(url, clients)
    spaces = spaces_for(n_spaces)
    home = home_of(np.array(lon), n_spaces)
    by_space = [np.flatnonzero(home == s) + 1 for s in range(n_spaces)]
    rng = np.random.default_rng(seed)
    sent = 0

    async def call(i: int) -> None:
        nonlocal sent
        s = i % n_spaces
        ids = rng.choice(by_space[s], batch)
        now = time.time()
        await presence.report_many(redis, [(int(w), lon[w - 1] + 1e-5, lat[w - 1], now) for w in ids],
                                   space=spaces[s])
        sent += batch

    try:
        s = await closed_loop(call, clients=clients, seconds=seconds, max_count=10 * len(lon))
    finally:
        await redis.aclose()
    return {"sent": sent, "latencies": s.latencies, "wall": s.wall, "errors": s.errors, "first_error": s.first_error}


def _run_child(job: tuple) -> dict:
    kind, args = job
    if kind == "claims":
        return asyncio.run(_claims_one_process(*args))
    return asyncio.run(_positions_one_process(*args))


async def ready_client(url: str, clients: int) -> Redis:
    redis = client(url, clients * 8)
    if isinstance(redis, RedisCluster):
        await redis.initialize()  # before concurrent use (tests.environment.ready says why)
    return redis


async def claims(redis: Redis, url: str, spaces: list[keys.Space], pts: np.ndarray, *, procs: int, clients: int,
                 seconds: float, max_load: int) -> dict:
    """`procs` driver processes, each `clients` closed-loop tasks on its own share of the alert points."""
    shares = np.array_split(pts, procs)
    jobs = [("claims", (url, len(spaces), share.tolist(), clients, seconds)) for share in shares]
    with multiprocessing.get_context("spawn").Pool(procs) as pool:
        parts = await asyncio.to_thread(pool.map, _run_child, jobs)
    wall = max(p["wall"] for p in parts)
    claimed = [w for p in parts for w in p["claimed"]]
    out = summary([x for p in parts for x in p["latencies"]], wall, errors=sum(p["errors"] for p in parts))
    out.update(procs=procs, claims=len(claimed), claims_per_s=round(len(claimed) / wall, 1) if wall else 0.0,
               searches_crossing_a_border=sum(p["crossing"] for p in parts),
               first_error=next((p["first_error"] for p in parts if p["first_error"]), None))
    per = Counter(claimed)
    stored: Counter[int] = Counter()
    for space in spaces:
        for w, n in (await presence.loads(redis, space=space)).items():
            stored[w] += n
    out["double_bookings"] = {"over_max_load": sum(1 for n in per.values() if n > max_load),
                              "load_mismatches": sum(1 for w in set(per) | set(stored) if per[w] != stored[w]),
                              "max_claims_per_worker": max(per.values(), default=0)}
    return out


async def positions(url: str, spaces: list[keys.Space], lon: np.ndarray, lat: np.ndarray, *, procs: int,
                    clients: int, seconds: float, batch: int) -> dict:
    jobs = [("positions", (url, len(spaces), lon.tolist(), lat.tolist(), clients, seconds, batch, 7 + k))
            for k in range(procs)]
    with multiprocessing.get_context("spawn").Pool(procs) as pool:
        parts = await asyncio.to_thread(pool.map, _run_child, jobs)
    wall = max(p["wall"] for p in parts)
    sent = sum(p["sent"] for p in parts)
    out = summary([x for p in parts for x in p["latencies"]], wall, errors=sum(p["errors"] for p in parts))
    out.update(procs=procs, positions=sent, positions_per_s=round(sent / wall, 1) if wall else 0.0, batch=batch,
               first_error=next((p["first_error"] for p in parts if p["first_error"]), None))
    return out


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--single", required=True)
    ap.add_argument("--cluster", required=True)
    ap.add_argument("--workers", type=int, default=30_000)
    ap.add_argument("--max-load", type=int, default=2)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--procs", type=int, default=2, help="driver processes (each --clients tasks)")
    a = ap.parse_args()
    rng = np.random.default_rng(1)
    lon = rng.uniform(BOX[0], BOX[2], a.workers)
    lat = rng.uniform(BOX[1], BOX[3], a.workers)
    idx = rng.integers(0, a.workers, 200_000)
    pts = np.column_stack((lon[idx] + rng.normal(0, 0.003, idx.size), lat[idx] + rng.normal(0, 0.003, idx.size)))
    result: dict = {"workers": a.workers, "max_load": a.max_load, "clients_per_proc": a.clients, "procs": a.procs,
                    "seconds": a.seconds}
    for name, url, n_spaces in (("single", a.single, 1), ("cluster_one_tag", a.cluster, 1),
                                ("cluster_3_districts", a.cluster, 3)):
        redis = await ready_client(url, a.clients)
        spaces = spaces_for(n_spaces)
        try:
            await setup(redis, spaces, lon, lat, a.max_load)
            c = await metered(redis, claims(redis, url, spaces, pts, procs=a.procs, clients=a.clients,
                                            seconds=a.seconds, max_load=a.max_load), "claims")
            p = await metered(redis, positions(url, spaces, lon, lat, procs=a.procs, clients=a.clients,
                                               seconds=a.seconds, batch=a.batch), "positions")
            result[name] = {"claims": c, "positions": p}
        finally:
            await redis.flushdb()
            await redis.aclose()
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    asyncio.run(main())
