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
from pathlib import Path

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
from dispatch import keys

PREFIX = "bench-osmand-"
BOX = (120.10, 30.20, 120.30, 30.35)  # osmand_wrk.lua draws from the same box
WRK_SCRIPT = Path(__file__).with_name("osmand_wrk.lua")
WARM_BACK_S = 86_400  # the untimed reports are stamped a day back: every timed report after them is newer, applied


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


def _queries(devices: list[str], count: int, *, back_s: int = 0) -> list[dict[str, str]]:
    rng = np.random.default_rng(17)
    pts = rng.uniform(BOX[:2], BOX[2:], (count, 2)).round(6).tolist()
    stamp = int(time.time()) - back_s
    return [{"id": devices[i % len(devices)], "lat": str(lat), "lon": str(lon), "timestamp": str(stamp),
             "speed": "1.2", "bearing": "90", "accuracy": "8", "batt": "80"} for i, (lon, lat) in enumerate(pts)]


async def _service(settings: Settings, devices: list[str], count: int, concurrency: int) -> dict:
    engine = make_engine(settings, pool_size=2)
    redis = Redis.from_url(settings.redis_url)
    directory = DeviceDirectory(make_sessionmaker(engine), ttl_s=600)
    try:
        queries = _queries(devices, count, back_s=WARM_BACK_S)
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


async def _warm(http: aiohttp.ClientSession, urls: list[str], devices: list[str], connections: int) -> None:
    """Every device once to every process, not timed, as a running system has them (each process caches its devices
    and registers their workers in Redis on a first report)."""
    first = iter([(u, q) for u in urls for q in _queries(devices, len(devices), back_s=WARM_BACK_S)])

    async def warm() -> None:
        for url, q in first:
            async with http.get(f"{url}/osmand", params=q) as r:
                await r.read()

    await asyncio.gather(*(warm() for _ in range(connections)))


def _server_figures(cpu: float, done: int, errors: int, elapsed: float) -> dict:
    # The servers' own CPU per report: what one core can take, whatever else the machine runs meanwhile.
    per = cpu * 1000 / done if done else 0.0
    return {"reports": done, "errors": errors, "seconds": round(elapsed, 3), "per_s": round(done / elapsed),
            "server_cpu_ms_per_report": round(per, 3), "per_core_capacity_per_s": round(1000 / per) if per else None}


async def _http(urls: list[str], pids: list[int], devices: list[str], seconds: float, connections: int) -> dict:
    queries = _queries(devices, 50_000)
    done = errors = 0
    latencies: list[float] = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=connections, limit_per_host=0)) as http:
        await _warm(http, urls, devices, connections)
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
        cpu = sum((cpu_seconds(pid) or 0.0) - b for pid, b in zip(pids, cpu_before, strict=True))
    lat = np.array(latencies) * 1000
    return {**_server_figures(cpu, done, errors, elapsed), "driver": "aiohttp",
            "p50_ms": round(float(np.percentile(lat, 50)), 2), "p99_ms": round(float(np.percentile(lat, 99)), 2)}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def _http_wrk(urls: list[str], pids: list[int], devices: list[str], seconds: float, connections: int) -> dict:
    """The same GETs driven by wrk (C, epoll; one single-threaded wrk per process): a load driver that costs the
    shared cores a fraction of what the Python client does, so the rate shows what the servers take."""
    async with aiohttp.ClientSession() as http:
        await _warm(http, urls, devices, connections)
    per_server = max(1, connections // len(urls))
    # Millisecond stamps, one per request from here on: back by more than a fast driver's requests in `seconds`.
    stamp = str(int(time.time() * 1000) - int(seconds * 30_000) - 60_000)
    cpu_before = [cpu_seconds(pid) or 0.0 for pid in pids]
    driver_before = _children_cpu()
    start = time.perf_counter()
    pipe = asyncio.subprocess.PIPE
    procs = [await asyncio.create_subprocess_exec(
        "wrk", "-t1", f"-c{per_server}", f"-d{max(1, round(seconds))}s", "--timeout", "10s", "-s", str(WRK_SCRIPT),
        url, "--", PREFIX, str(len(devices)), str(len(urls)), str(k), stamp, stdout=pipe, stderr=pipe)
        for k, url in enumerate(urls)]
    outputs = [await p.communicate() for p in procs]
    elapsed = time.perf_counter() - start
    cpu = sum((cpu_seconds(pid) or 0.0) - b for pid, b in zip(pids, cpu_before, strict=True))
    driver_cpu = _children_cpu() - driver_before
    runs = []
    for proc, (out, err) in zip(procs, outputs, strict=True):
        line = next((x for x in out.decode().splitlines() if x.startswith("WRK_RESULT ")), None)
        if proc.returncode != 0 or line is None:
            raise RuntimeError(f"wrk failed ({proc.returncode}): {out.decode()[-2000:]} {err.decode()[-2000:]}")
        runs.append(orjson.loads(line.removeprefix("WRK_RESULT ")))
    requests = sum(r["requests"] for r in runs)
    errors = sum(r["non_2xx"] + r["connect"] + r["read"] + r["write"] + r["timeout"] for r in runs)
    wall = max(r["duration_us"] for r in runs) / 1e6  # wrk's own timing, without its start and the bench's waits
    done = requests - errors
    return {**_server_figures(cpu, done, errors, wall), "driver": "wrk", "wall_with_start_s": round(elapsed, 3),
            "p50_ms": round(max(r["p50_us"] for r in runs) / 1000, 2),
            "p99_ms": round(max(r["p99_us"] for r in runs) / 1000, 2),
            "driver_cpu_ms_per_report": round(driver_cpu * 1000 / requests, 4) if requests else None}


async def _applied_since(settings: Settings, since: float) -> int:
    """How many bench workers Redis has seen report at or after `since`: the timed run's reports were applied."""
    engine = make_engine(settings, pool_size=1)
    redis = Redis.from_url(settings.redis_url)
    try:
        async with engine.connect() as conn:
            ids = [r[0] for r in await conn.execute(text("SELECT id FROM workers WHERE name LIKE :p"),
                                                    {"p": PREFIX + "%"})]
        scores = await redis.zmscore(keys.DEFAULT.seen, ids) if ids else []
        return sum(1 for s in scores if s is not None and s >= since)
    finally:
        await redis.aclose()
        await engine.dispose()


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
            drive = _http_wrk if args.driver == "wrk" else _http
            started = time.time() - 3_600  # every timed report is stamped later than this, the warm-up's earlier
            result["http"] = await drive([s.url for s in servers], [s.pid for s in servers], devices, args.seconds,
                                         args.connections)
            await asyncio.sleep(0.5)  # the batchers' last flush
            result["http"]["devices_applied"] = await _applied_since(settings, started)
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
    parser.add_argument("--driver", choices=["aiohttp", "wrk"], default="aiohttp",
                        help="HTTP load driver: the Python client, or wrk (Debian's package; scripts/bench-tools.sh)")
    print(orjson.dumps(asyncio.run(main(parser.parse_args()))).decode())
