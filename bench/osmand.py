"""GPS app reports per second through the OsmAnd path (issue 17 item 4): `python -m bench.osmand`.

Two figures, on this machine's real PostgreSQL and Redis (DATABASE_URL / REDIS_URL: use a database of your own, it
is migrated and gets `--workers` bench workers and devices, removed at the end):
- `service.per_s`: decode a query-string report and store it (device → worker from the process's cache, /m's checks,
  the batcher, report.lua) in one process, `--concurrency` reports in flight: the path without HTTP.
- `http.per_s`: GET /osmand?id=…&lat=…&lon=…&timestamp=… against `--processes` uvicorn processes over keep-alive
  connections (aiohttp, the bench's client), for `--seconds`: the whole path as a GPS app meets it.
`http.server_cpu_ms_per_report` is the web processes' CPU per report (so `per_core_capacity_per_s` holds on a busy
machine too). Prints one JSON object (figures in docs/interop.md)."""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import time

import aiohttp
import numpy as np
import orjson
from redis.asyncio import Redis
from sqlalchemy import text

from bench import server
from bench.stats import cpu_seconds
from command.assign.devices import DeviceDirectory
from command.core.db import make_engine, make_sessionmaker
from command.core.settings import Settings
from command.intake.channels import osmand
from command.ops.migrate import upgrade

PREFIX = "bench-osmand-"
BOX = (120.10, 30.20, 120.30, 30.35)


async def _setup(settings: Settings, n: int) -> list[str]:
    engine = make_engine(settings, pool_size=1)
    try:
        async with engine.begin() as conn:
            await _teardown_sql(conn)
            await conn.execute(text(
                "INSERT INTO workers (name, grid_codes, skills, kind, max_load, on_duty) "
                "SELECT :p || i, '{}', '{}', 'fulltime', 2, true FROM generate_series(1, :n) i"), {"p": PREFIX, "n": n})
            await conn.execute(text(
                "INSERT INTO gps_devices (device_id, worker_id) SELECT name, id FROM workers WHERE name LIKE :p"),
                {"p": PREFIX + "%"})
    finally:
        await engine.dispose()
    return [f"{PREFIX}{i}" for i in range(1, n + 1)]


async def _teardown_sql(conn) -> None:  # type: ignore[no-untyped-def]
    ids = [r[0] for r in await conn.execute(text("SELECT id FROM workers WHERE name LIKE :p"), {"p": PREFIX + "%"})]
    if ids:
        await conn.execute(text("DELETE FROM gps_devices WHERE worker_id = ANY(:i)"), {"i": ids})
        await conn.execute(text("DELETE FROM workers WHERE id = ANY(:i)"), {"i": ids})


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _queries(devices: list[str], count: int) -> list[dict[str, str]]:
    rng = np.random.default_rng(17)
    pts = rng.uniform(BOX[:2], BOX[2:], (count, 2)).round(6).tolist()
    now = int(time.time())
    return [{"id": devices[i % len(devices)], "lat": str(lat), "lon": str(lon), "timestamp": str(now),
             "speed": "1.2", "bearing": "90", "accuracy": "8", "batt": "80"} for i, (lon, lat) in enumerate(pts)]


async def _service(settings: Settings, devices: list[str], count: int, concurrency: int) -> dict:
    engine = make_engine(settings, pool_size=2)
    redis = Redis.from_url(settings.redis_url)
    directory = DeviceDirectory(make_sessionmaker(engine), ttl_s=600)
    try:
        queries = _queries(devices, count)
        for q in queries[:len(devices)]:  # first reports: cache the devices, register the workers in Redis
            await osmand.report(directory, redis, fix=osmand.from_query(q), now=time.time())
        work = iter(queries)

        async def client() -> None:
            for q in work:
                await osmand.report(directory, redis, fix=osmand.from_query(q), now=time.time())

        redis_pid = int((await redis.info("server"))["process_id"])
        cpu0, redis0 = _own_cpu(), cpu_seconds(redis_pid)
        start = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
        # CPU spent per report, in this process (decode, cache, checks, batcher) and in Redis (report.lua): the
        # path's cost on a machine busy with other work, where the wall-clock rate says little.
        own_ms = (_own_cpu() - cpu0) * 1000 / count
        redis1 = cpu_seconds(redis_pid)
        redis_ms = (redis1 - redis0) * 1000 / count if redis0 is not None and redis1 is not None else 0.0
        return {"reports": count, "seconds": round(elapsed, 3), "per_s": round(count / elapsed),
                "cpu_ms_per_report": round(own_ms, 4), "redis_cpu_ms_per_report": round(redis_ms, 4),
                "per_core_capacity_per_s": round(1000 / (own_ms + redis_ms)) if own_ms + redis_ms else None}
    finally:
        await redis.aclose()
        await engine.dispose()


async def _http(urls: list[str], pids: list[int], devices: list[str], seconds: float, connections: int) -> dict:
    queries = _queries(devices, 50_000)
    done = errors = 0
    latencies: list[float] = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=connections, limit_per_host=0)) as http:
        # Warm-up, not timed: every device once to every process, as a running system has them (each process caches
        # its devices and registers their workers in Redis on a first report).
        first = iter([(u, q) for u in urls for q in _queries(devices, len(devices))])

        async def warm() -> None:
            for url, q in first:
                async with http.get(f"{url}/osmand", params=q) as r:
                    await r.read()

        await asyncio.gather(*(warm() for _ in range(connections)))
        cpu_before = [cpu_seconds(pid) or 0.0 for pid in pids]
        deadline = time.perf_counter() + seconds
        async def client(k: int) -> None:
            nonlocal done, errors
            i = k
            while time.perf_counter() < deadline:
                t0 = time.perf_counter()
                async with http.get(f"{urls[i % len(urls)]}/osmand", params=queries[i % len(queries)]) as r:
                    await r.read()
                    if r.status == 200:
                        done += 1
                    else:
                        errors += 1
                latencies.append(time.perf_counter() - t0)
                i += connections

        start = time.perf_counter()
        await asyncio.gather(*(client(k) for k in range(connections)))
        elapsed = time.perf_counter() - start
        # The servers' own CPU per report: what one core can take, whatever else the machine runs meanwhile.
        cpu = sum((cpu_seconds(pid) or 0.0) - b for pid, b in zip(pids, cpu_before, strict=True))
    lat = np.array(latencies) * 1000
    per = cpu * 1000 / done if done else 0.0
    return {"reports": done, "errors": errors, "seconds": round(elapsed, 3), "per_s": round(done / elapsed),
            "p50_ms": round(float(np.percentile(lat, 50)), 2), "p99_ms": round(float(np.percentile(lat, 99)), 2),
            "server_cpu_ms_per_report": round(per, 3), "per_core_capacity_per_s": round(1000 / per) if per else None}


async def main(args: argparse.Namespace) -> dict:
    settings = Settings()
    upgrade(settings)
    devices = await _setup(settings, args.workers)
    result: dict = {"workers": args.workers, "cpus": os.cpu_count()}
    try:
        result["service"] = await _service(settings, devices, args.reports, args.concurrency)
        ports = list(range(args.port, args.port + args.processes))
        servers = server.start(ports, {"GRIDCMD_DISPATCH_BACKGROUND": "false", "GRIDCMD_GPS_DEVICE_CACHE_S": "600"})
        try:
            result["http"] = await _http([s.url for s in servers], [s.pid for s in servers], devices, args.seconds,
                                         args.connections)
        finally:
            server.stop(servers)
        result["http"]["processes"] = args.processes
    finally:
        engine = make_engine(settings, pool_size=1)
        async with engine.begin() as conn:
            await _teardown_sql(conn)
        await engine.dispose()
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.osmand", description=__doc__)
    parser.add_argument("--workers", type=int, default=2000)
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=256)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--connections", type=int, default=128)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--port", type=int, default=18610)
    print(orjson.dumps(asyncio.run(main(parser.parse_args()))).decode())
