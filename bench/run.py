"""The benchmark run: prepare, measure each phase (a failing phase is recorded, the others still run), report."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import gc
import os
import platform
import secrets
import time
import traceback
from pathlib import Path

import numpy as np
import orjson
import uvloop
from redis.asyncio import BlockingConnectionPool, Redis
from sqlalchemy import text

from bench import (
    audience,
    intake_floor,
    live,
    phase_assign,
    phase_e2e,
    phase_locate,
    phase_positions,
    phase_tiles,
    phase_tracks,
    province,
    report,
    server,
)
from bench import setup as bsetup
from bench.profile import Profiler
from bench.scale import Scale
from bench.stats import CpuMeter, PeakRss, mib, rss_bytes
from bench.wsclient import close_all
from command.core.db import make_engine
from command.core.settings import Settings
from dispatch import keys

# e2e_floor runs last: the real app's processes are stopped first (their background loops would share the cores).
PHASES = ("locate", "assign", "tiles", "e2e", "positions", "tracks", "e2e_floor", "e2e_floor_db", "intake_floor")
APP_PHASES = {"locate", "tiles", "e2e", "positions"}  # the phases that need the real app's web processes
PRESENCE_TTL_S = 86_400  # simulated workers report only in the position phase: keep them present for the run


def log(msg: str) -> None:
    print(msg, flush=True)


def _redis_url(args: argparse.Namespace) -> str:
    if args.redis_url:
        return args.redis_url
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    return url[: -len("/0")] + "/6" if url.endswith("/0") else url


def run_benchmark(args: argparse.Namespace, scale: Scale) -> int:
    from bench.province import ensure

    d = ensure(args.out_dir, scale, args.seed, log)
    result = uvloop.run(_run(args, scale, d))  # the loop the web processes run on (uvicorn[standard])
    path = report.write(result, args.out_dir)
    print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
    print(report.human(result))
    print(f"result written to {path}")
    return 0


async def _run(args: argparse.Namespace, scale: Scale, d: Path) -> dict:
    db_url = args.database_url or bsetup.bench_database_url(
        os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/gridcmd"))
    settings = Settings(database_url=db_url, redis_url=_redis_url(args), presence_ttl_s=PRESENCE_TTL_S,
                        secret_key=os.environ.get("GRIDCMD_SECRET_KEY") or secrets.token_urlsafe(48))
    only = {p for p in args.only.split(",") if p} or set(PHASES)
    secs = args.seconds or scale.seconds
    meta = province.read_meta(d)
    result: dict = {
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "scale": {"name": scale.name, "regions": sum(meta["counts"].values()), "counts": meta["counts"],
                  "workers": meta["workers"], "area_km2": meta["area_km2"], "seed": args.seed},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_avg_start": os.getloadavg()},
        "generate": {"seconds": meta["generate_s"], "per_level_s": meta["timings_s"]},
        "errors": {},
    }
    bsetup.ensure_database(db_url)
    engine = make_engine(settings, pool_size=16, max_overflow=0, pool_pre_ping=False)
    pool = BlockingConnectionPool.from_url(settings.redis_url, decode_responses=True, max_connections=128, timeout=30)
    redis = Redis(connection_pool=pool)
    rss = PeakRss()
    servers: list[server.Server] = []
    try:
        result["load"] = await bsetup.load_data(settings, engine, d, force=args.reload, log=log)
        await bsetup.reset_operations(engine, max_load=2)
        await bsetup.reference_data(engine)
        await bsetup.flush_redis(redis)
        w = province.load_workers(d)
        # The driver holds the region set and 500,000 workers' arrays for the whole run: out of the collector's
        # sight, its full collections (hundreds of ms, counted as the alerts' latency) no longer walk them.
        gc.collect()
        gc.freeze()
        result["live"] = await live.seed_live(redis, w, log=log)
        box = province.sample_box(d)
        CPU_PIDS["redis"] = int((await redis.info("server"))["process_id"])
        PG_BACKENDS[:] = [bsetup.backend_lister(db_url)]
        admin = await bsetup.account(engine, settings, username="bench-admin", role="admin")

        if "locate" in only:
            await _phase(result, "locate", _locate(engine, settings, box, secs, result))
        if "assign" in only:
            result["assign"] = await _guard(result, "assign", phase_assign.run(
                redis, settings.redis_url, w, clients=16, seconds=secs, max_count=int(secs * 50_000),
                presence_ttl_s=PRESENCE_TTL_S, max_load=2, seed=args.seed))
            await live.reset_loads(redis)

        env = {"DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url,
               "GRIDCMD_SECRET_KEY": settings.secret_key, "GRIDCMD_PRESENCE_TTL_S": str(PRESENCE_TTL_S),
               "GRIDCMD_DB_POOL_SIZE": "8", "GRIDCMD_LOG_LEVEL": "warning"}
        if only & APP_PHASES:
            ports = [args.port_base + 1 + i for i in range(args.processes)]
            log(f"starting {len(ports)} web processes on ports {ports}")
            servers = server.start(ports, env, nice=max(0, args.nice - os.nice(0)))
            urls = [s.url for s in servers]
            CPU_PIDS.update({f"web:{s.port}": s.pid for s in servers})
            if args.profile:
                PROFILE.update(dir=args.profile, pid=servers[0].pid)
            sampler = asyncio.create_task(_sample_rss(rss, servers))

            if "locate" in only:
                result["locate"]["http"] = await _guard(result, "locate_http", phase_locate.http(
                    urls, admin, box, clients=8, seconds=secs, max_count=int(secs * 20_000), seed=args.seed))
                phase_locate.with_ratios(result["locate"]["http"] or {}, result["locate"].get("floor") or {})
            if "tiles" in only:
                result["tiles"] = await _guard(result, "tiles", _tiles(urls, admin, meta, w, secs))
            if "e2e" in only or "positions" in only:
                await _live_phases(result, only, engine, redis, settings, urls, admin, w, box, scale, args)
            sampler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sampler
            rss.sample({f"web:{s.port}": s.pid for s in servers})
        if "tracks" in only:
            # Its own web processes, started once per half with track writes off, then on.
            server.stop(servers)
            servers = []
            for k in [k for k in CPU_PIDS if k.startswith("web:")]:
                del CPU_PIDS[k]
            try:
                await _tracks_phase(result, engine, redis, settings, env, admin, w, box, scale, args)
            except Exception as exc:  # recorded; the floors still run
                result["errors"]["tracks"] = f"{type(exc).__name__}: {exc}"[:1000]
                traceback.print_exc()
        if only & {"e2e_floor", "e2e_floor_db"}:
            # Done with the real app: its processes stop, so that their background work (the e2e phase's ack
            # timers, the sweeper, the relay) neither shares the cores with the floor nor counts in its CPU.
            server.stop(servers)
            servers = []
            for k in [k for k in CPU_PIDS if k.startswith("web:")]:
                del CPU_PIDS[k]
            PROFILE.pop("pid", None)
            await _floor_phase(result, only, engine, redis, settings, env, admin, w, box, scale, args)
        if "intake_floor" in only:
            # The database's share of the same floor: one alert's intake SQL through pgbench, nothing else running.
            result["intake_floor"] = await _guard(result, "intake_floor", intake_floor.run(
                engine, db_url, box, workers=len(w["lon"]), clients=8, seconds=secs))
    except Exception as exc:
        result["errors"]["run"] = f"{type(exc).__name__}: {exc}"
        traceback.print_exc()
    finally:
        server.stop(servers)
        await redis.aclose()
        await pool.disconnect()
        await engine.dispose()
    web = {k: v for k, v in rss.as_mib().items() if k.startswith("web:")}
    result["memory"] = {"web_mib": web, "web_max_mib": max(web.values()) if web else None,
                        "driver_mib": mib(rss_bytes(os.getpid()))}
    result["machine"]["load_avg_end"] = os.getloadavg()
    result["cpu_ms_per_op"] = report.cpu_per_op(result)
    result["e2e_composed_floor"] = report.composed_floor(result, os.cpu_count() or 1)
    result["targets"] = report.judge(result)
    return result


CPU_PIDS: dict[str, int] = {}  # processes whose CPU use is reported per phase (cores busy, on average)
PG_BACKENDS: list = []  # a function listing the PostgreSQL backends serving the bench database
PROFILE: dict[str, object] = {}  # "dir": where py-spy writes; "pid": the web process it samples


async def _guard(result: dict, name: str, coro) -> dict | None:
    log(f"phase {name} ...")
    t0 = time.perf_counter()
    meter = CpuMeter({"driver": os.getpid(), **CPU_PIDS}, group=("postgres", PG_BACKENDS[0]) if PG_BACKENDS else None)
    meter.start()
    prof = Profiler(PROFILE["dir"], PROFILE["pid"], name) if PROFILE.get("pid") else None
    try:
        out = await coro
        wall = time.perf_counter() - t0
        result.setdefault("cpu_cores_busy", {})[name] = meter.stop(wall)
        result.setdefault("phase_seconds", {})[name] = round(wall, 2)
        if prof is not None:
            result.setdefault("profiles", {})[name] = await asyncio.to_thread(prof.stop)
        log(f"phase {name} done in {wall:.1f} s")
        return out
    except Exception as exc:
        result["errors"][name] = f"{type(exc).__name__}: {exc}"[:1000]
        traceback.print_exc()
        return None


async def _phase(result: dict, name: str, coro) -> None:
    await _guard(result, name, coro)


async def _locate(engine, settings: Settings, box, secs: float, result: dict) -> None:
    clients = 8
    loc: dict = {}
    result["locate"] = loc
    loc["floor"] = await asyncio.to_thread(phase_locate.floor, settings.database_url, box, clients=clients,
                                           seconds=secs)
    loc["floor_new_statement"] = phase_locate.with_ratios(await asyncio.to_thread(
        phase_locate.floor_new_statement, settings.database_url, box, clients=clients, seconds=secs), loc["floor"])
    for key, per_call in (("function", False), ("function_per_call", True)):
        loc[key] = phase_locate.with_ratios(await phase_locate.function(
            engine, box, clients=clients, seconds=secs, max_count=int(secs * 20_000), per_call_session=per_call,
            seed=7), loc["floor"], loc["floor_new_statement"])
    # Judged: the same 8 callers over 2 processes, as pgbench runs its 8 clients on 2 threads.
    loc["function_2proc"] = phase_locate.with_ratios(await phase_locate.function_processes(
        settings.database_url, box, processes=2, clients=clients, seconds=secs, max_count=int(secs * 20_000),
        seed=7), loc["floor"], loc["floor_new_statement"])


async def _tiles(urls: list[str], token: str, meta: dict, w: dict, secs: float) -> dict:
    bounds = tuple(meta["bounds_lonlat"])
    province_view = phase_tiles.tiles_covering(bounds, 7) + phase_tiles.tiles_covering(bounds, 8)
    # The densest spot: the most workers in one 0.05° cell.
    cell = np.floor(np.column_stack((w["lon"], w["lat"])) / 0.05).astype(np.int64)
    uniq, counts = np.unique(cell, axis=0, return_counts=True)
    lon, lat = (uniq[np.argmax(counts)] + 0.5) * 0.05
    zoomed = phase_tiles.tiles_around(lon, lat, 14, 1) + phase_tiles.tiles_around(lon, lat, 13, 1)
    n = max(len(province_view) * 3, int(secs * 200))
    return {
        "province": await phase_tiles.run(urls, token, province_view, clients=4, seconds=secs, max_count=n, seed=1),
        "zoomed": await phase_tiles.run(urls, token, zoomed, clients=4, seconds=secs, max_count=n, seed=2),
    }


async def _live_phases(result: dict, only: set[str], engine, redis: Redis, settings: Settings, urls: list[str],
                       admin: str, w: dict, box, scale: Scale, args: argparse.Namespace) -> None:
    rate = args.e2e_rate or scale.e2e_rate
    e2e_secs = args.e2e_seconds or scale.e2e_seconds
    a = await audience.make_audience(engine, settings, w, scale, args)
    cap = phase_e2e.share(int(rate * e2e_secs), len(a.sock_ids))
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE workers SET max_load = :m WHERE id = ANY(:ids)"),
                           {"m": cap, "ids": a.sock_ids})
    await redis.hset(keys.MAX_LOAD, mapping={str(i): cap for i in a.sock_ids})
    r = await audience.open_receivers(a, settings, urls)
    result["sockets"] = r.opened
    try:
        if "e2e" in only:
            result["e2e"] = await _guard(result, "e2e", audience.run_e2e(
                urls, admin, a, r, rate=rate, seconds=e2e_secs, clients=256))
            result["e2e_check"] = await _guard(result, "e2e_check", audience.check_bookings(engine, redis))
            # The same path well below saturation: the latency an alert sees when the system keeps up.
            light = max(5.0, rate / 50)
            result["e2e_light"] = await _guard(result, "e2e_light", audience.run_e2e(
                urls, admin, a, r, rate=light, seconds=min(15.0, e2e_secs), clients=64))
        if "positions" in only:
            senders = {wid: r.workers[wid] for wid in a.sock_ids[: scale.position_clients]}
            total = int(scale.position_rate * (args.seconds or scale.seconds))
            result["positions"] = await _guard(result, "positions", phase_positions.run(
                redis, senders, (urls[len(a.sock_ids) % len(urls)], a.worker_tokens[a.probe_id],
                                 a.probe_id, settings.redis_url), box, total=total,
                seconds=args.seconds or scale.seconds))
    finally:
        await close_all(r.all)


async def _floor_phase(result: dict, only: set[str], engine, redis: Redis, settings: Settings, env: dict[str, str],
                       admin: str, w: dict, box, scale: Scale, args: argparse.Namespace) -> None:
    """The transport floor (bench/floor_app.py): the same driver, rate, receivers and process count as e2e,
    against the thinnest app on the same stack (no PostgreSQL per alert). Its CPU is measured as e2e's is.
    e2e_floor_db: the same again while pgbench runs one alert's intake SQL per alert at the same rate (the
    database's share of the work, sent by a C client): the floor of the whole path, measured on this machine."""
    rate = args.e2e_rate or scale.e2e_rate
    e2e_secs = args.e2e_seconds or scale.e2e_seconds
    ports = [args.port_base + 1 + args.processes + i for i in range(args.processes)]
    floor: list[server.Server] = []
    r: audience.Receivers | None = None
    try:
        a = await audience.make_audience(engine, settings, w, scale, args)
        await audience.restore_positions(redis, a)
        log(f"starting {len(ports)} transport-floor processes (bench.floor_app) on ports {ports}")
        floor = server.start(ports, env, nice=max(0, args.nice - os.nice(0)), app="bench.floor_app:app")
        urls = [s.url for s in floor]
        CPU_PIDS.update({f"web:{s.port}": s.pid for s in floor})
        if args.profile:
            PROFILE.update(dir=args.profile, pid=floor[0].pid)
        r = await audience.open_receivers(a, settings, urls)
        if "e2e_floor" in only:
            out = await _guard(result, "e2e_floor", audience.run_e2e(
                urls, admin, a, r, rate=rate, seconds=e2e_secs, clients=256))
            if out is not None:
                out["sockets"] = r.opened
                out["web_rss_mib"] = {f"web:{s.port}": mib(rss_bytes(s.pid)) for s in floor}
                out["app"] = "bench.floor_app:app"
            result["e2e_floor"] = out
        if "e2e_floor_db" in only:
            database = asyncio.create_task(intake_floor.run(
                engine, settings.database_url, box, workers=len(w["lon"]), clients=16, seconds=e2e_secs, rate=rate))
            out = await _guard(result, "e2e_floor_db", audience.run_e2e(
                urls, admin, a, r, rate=rate, seconds=e2e_secs, clients=256))
            if out is not None:
                out["database"] = await database
            result["e2e_floor_db"] = out
    except Exception as exc:
        result["errors"]["e2e_floor"] = f"{type(exc).__name__}: {exc}"[:1000]
        traceback.print_exc()
    finally:
        if r is not None:
            await close_all(r.all)
        for s in floor:
            CPU_PIDS.pop(f"web:{s.port}", None)
        PROFILE.pop("pid", None)
        server.stop(floor)


async def _tracks_phase(result: dict, engine, redis: Redis, settings: Settings, env: dict[str, str], admin: str,
                        w: dict, box, scale: Scale, args: argparse.Namespace) -> None:
    """bench.phase_tracks: the same load twice on freshly started web processes, track writes off then on. The
    first `position_clients` socket workers send positions; alerts are raised beside the others."""
    secs = (args.seconds or scale.seconds) * 1.5
    ports = [args.port_base + 1 + 2 * args.processes + i for i in range(args.processes)]
    a = await audience.make_audience(engine, settings, w, scale, args)
    n = scale.position_clients
    # The first n socket workers send positions (from bench.position_flood); alerts are raised beside the others.
    targets = dataclasses.replace(a, sock_ids=a.sock_ids[n:], positions=a.positions[n:])
    # Room for this phase's alerts on top of what earlier phases left each target holding, so each alert goes to
    # the socket worker it was raised beside and its latency is the worker's.
    room = phase_e2e.share(int(scale.track_alert_rate * secs * 2), len(targets.sock_ids)) + 1
    async with engine.begin() as conn:
        rows = (await conn.execute(text("UPDATE workers SET max_load = max_load + :m WHERE id = ANY(:ids) "
                                        "RETURNING id, max_load"), {"m": room, "ids": targets.sock_ids})).all()
    await redis.hset(keys.MAX_LOAD, mapping={str(i): m for i, m in rows})
    halves: dict[str, dict | None] = {}
    for writes in (False, True):
        name = "with_writes" if writes else "without_writes"
        await audience.restore_positions(redis, a)
        log(f"tracks phase, {name}: starting {len(ports)} web processes on ports {ports}")
        group = server.start(ports, {**env, "GRIDCMD_TRACK_WRITES": str(writes).lower()},
                             nice=max(0, args.nice - os.nice(0)))
        CPU_PIDS.update({f"web:{s.port}": s.pid for s in group})
        r: audience.Receivers | None = None
        try:
            urls = [s.url for s in group]
            r = await audience.open_receivers(targets, settings, urls)
            # Freshly started processes answer a connect storm of thousands of sockets slowly (each socket's
            # account check takes a pooled connection); a socket refused with 1013 is opened again, as a phone
            # would, before anything is timed.
            await asyncio.sleep(3.0)
            reopened = await audience.reopen_closed(r, targets, settings, urls)
            sockets = [(urls[i % len(urls)], a.worker_tokens[wid], wid) for i, wid in enumerate(a.sock_ids[:n])]
            probe = (urls[len(a.sock_ids) % len(urls)], a.worker_tokens[a.probe_id], a.probe_id, settings.redis_url)

            def dispatch(urls: list[str] = urls, r: audience.Receivers = r):  # type: ignore[no-untyped-def]
                return audience.run_e2e(urls, admin, targets, r, rate=scale.track_alert_rate, seconds=secs,
                                        clients=64)

            halves[name] = await _guard(result, f"tracks_{name}", phase_tracks.half(
                redis, engine, sockets, probe, box, dispatch, rate=args.track_rate or scale.track_rate,
                seconds=secs, writes=writes))
            if halves[name] is None:
                result["errors"][f"tracks_{name}_server_log"] = group[0].log_tail(3000)
            else:  # what the processes said (warnings and up): a stall shows here
                halves[name]["server_logs"] = {str(s.port): s.log_tail(2000) for s in group}
                halves[name]["sockets_reopened"] = reopened
        finally:
            if r is not None:
                await close_all(r.all)
            for s in group:
                CPU_PIDS.pop(f"web:{s.port}", None)
            server.stop(group)
    result["tracks"] = {**halves, "compare": phase_tracks.compare(halves.get("without_writes"),
                                                                  halves.get("with_writes"))}


async def _sample_rss(rss: PeakRss, servers: list[server.Server]) -> None:
    while True:
        rss.sample({f"web:{s.port}": s.pid for s in servers})
        rss.sample({"driver": os.getpid()})
        await asyncio.sleep(0.5)
