"""Many web nodes (issue 18 item 4): `python -m bench.nodes`. Prints one JSON object (docs/scaling.md).

Two groups of web processes, A and B, each one `gridcmd serve --workers N` on its own port range and in its own
working directory, sharing nothing but PostgreSQL, Redis, the signing-key file and the uploads directory (as two
machines behind a load balancer would: bench/node_groups.py). The world is the benchmark's small province
(bench.province, SMALL scale: 2 districts, 2,070 regions, 3,000 workers) in the bench's own database and Redis
database (flushed at start, as `python -m bench` does). Alerts go to A and to B at `--rate` per second each, at
once; `--walls` wall displays per group (operators of the two districts, in turn) listen. Reported: alert → wall
latency per direction (A->B, B->A: across; A->A, B->B: within, in the same run), and per wall the PostgreSQL
event ids received against those PostgreSQL holds in its district (missing, duplicates)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import orjson
from redis.asyncio import Redis

from bench import live, node_groups, nodes_measure, province
from bench import setup as bsetup
from bench.phase_e2e import JITTER_DEG, district_of
from bench.run import _redis_url
from bench.scale import SMALL
from bench.stats import CpuMeter
from bench.wsclient import close_all
from command.core.db import make_engine
from command.core.settings import Settings

PRESENCE_TTL_S = 86_400  # the generated workers report once, at the start: present for the whole run
SETTLE_S = 15.0  # after the last alert, how long the walls may take before what is missing counts as lost


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def alert_maker(w: dict, group: str, seed: int, run_id: str):  # type: ignore[no-untyped-def]
    """Alert i of a group: a metre from a random generated worker, so that it is located and dispatched."""
    rng = np.random.default_rng([seed, ord(group[0])])
    idx = rng.integers(0, len(w["lon"]), 1_000_000)
    jitter = rng.uniform(-JITTER_DEG, JITTER_DEG, (1_000_000, 2))

    def make(i: int) -> nodes_measure.Alert:
        k = int(idx[i])
        body = {"category": bsetup.CATEGORY, "description": f"多节点压测 {group}#{i}",
                "lon": float(w["lon"][k] + jitter[i, 0]), "lat": float(w["lat"][k] + jitter[i, 1]),
                "channel": "hotline", "external_id": f"{run_id}-{group}-{i}"}
        return nodes_measure.Alert(body, district_of(str(w["grid_code"][k])))

    return make


async def run(args: argparse.Namespace) -> dict:
    d = province.ensure(args.out_dir, SMALL, args.seed, log)
    db_url = args.database_url or bsetup.bench_database_url(
        os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/gridcmd"))
    shared = node_groups.shared_dir(Path(tempfile.mkdtemp(prefix="gridcmd-nodes-shared-")))
    # The driver mints tokens with the key every node reads from the shared file (created here, once).
    settings = Settings(database_url=db_url, redis_url=args.redis_url or _redis_url(args), secret_key="",
                        secret_key_file=str(shared / "secret_key"), presence_ttl_s=PRESENCE_TTL_S)
    bsetup.ensure_database(db_url)
    engine = make_engine(settings, pool_size=4, max_overflow=0)
    redis = Redis.from_url(settings.redis_url, decode_responses=True)
    groups: list[node_groups.Group] = []
    result: dict = {"started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "cpus": os.cpu_count(),
                    "load_avg_start": os.getloadavg(), "rate_per_group": args.rate, "seconds": args.seconds,
                    "processes_per_group": args.processes, "walls_per_group": args.walls}
    walls: list[nodes_measure.Wall] = []
    try:
        await bsetup.load_data(settings, engine, d, force=False, log=log)
        await bsetup.reset_operations(engine, max_load=2)
        await bsetup.reference_data(engine)
        await bsetup.flush_redis(redis)
        w = province.load_workers(d)
        await live.seed_live(redis, w, log=log)
        districts = sorted({district_of(str(c)) for c in w["grid_code"]})
        tokens = {dc: await bsetup.account(engine, settings, username=f"bench-wall-{dc}", role="operator",
                                           region_code=dc) for dc in districts}
        admin = await bsetup.account(engine, settings, username="bench-admin", role="admin")
        env = {"DATABASE_URL": db_url, "REDIS_URL": settings.redis_url, "GRIDCMD_LOG_LEVEL": "warning",
               "GRIDCMD_PRESENCE_TTL_S": str(PRESENCE_TTL_S), "GRIDCMD_DB_POOL_SIZE": "8"}
        nice = max(0, args.nice - os.nice(0))
        log(f"starting groups A and B: gridcmd serve --workers {args.processes} --port {args.port_a} / {args.port_b}")
        groups = node_groups.start_groups([("A", args.port_a), ("B", args.port_b)], processes=args.processes,
                                          env=env, shared=shared, nice=nice,
                                          timeout=args.start_timeout)
        urls = {g.name: g.url for g in groups}
        result["groups"] = {g.name: {"port": g.port, "pids": g.pids(), "cwd": str(g.cwd)} for g in groups}
        walls = await nodes_measure.open_walls(urls, tokens, args.walls)
        baseline = await nodes_measure.last_event_id(engine)
        run_id = f"nodes-{time.time_ns()}"
        makers = {g: alert_maker(w, g, args.seed, run_id) for g in urls}
        pids = {f"{g.name}:{pid}": pid for g in groups for pid in g.pids()}
        pids["redis"] = int((await redis.info("server"))["process_id"])
        meter = CpuMeter({"driver": os.getpid(), **pids}, group=("postgres", bsetup.backend_lister(db_url)))
        meter.start()
        t0 = time.perf_counter()
        log(f"posting {args.rate}/s to each group for {args.seconds} s; {len(walls)} walls listening")
        sent, post = await nodes_measure.drive(urls, admin, makers, rate=args.rate, seconds=args.seconds)
        wall_s = time.perf_counter() - t0
        result["cpu_cores_busy"] = meter.stop(wall_s)
        events = await nodes_measure.settle(engine, walls, sent, baseline, SETTLE_S)
        result["post"] = post
        result.update(nodes_measure.report(walls, sent, events, wall_s))
        # The walls that missed something, were sent something twice or saw their socket fail (up to 10), else a
        # sample of two: the totals are in "delivery".
        bad = [x for x in result["per_wall"] if x["missing"] or x["duplicates"] or x["errors"]]
        result["per_wall"] = bad[:10] or result["per_wall"][:2]
        result["cpu_ms_per_alert"] = _per_alert(result["cpu_cores_busy"], wall_s, len(sent))
        result["frames_per_alert"] = round(result["delivery"]["frames"] / len(sent), 1) if sent else None
    finally:
        await close_all([x.rx for x in walls])
        for g in groups:
            tail = node_groups.stop_group(g)
            if "Traceback" in tail:
                result.setdefault("server_tracebacks", {})[g.name] = tail[-2000:]
        await redis.aclose()
        await engine.dispose()
    result["load_avg_end"] = os.getloadavg()
    d_ = result.get("delivery", {})
    result["ok"] = bool(result.get("alerts_accepted")) and d_.get("missing") == 0 and d_.get("duplicates") == 0 \
        and not result.get("alerts_missed_by_walls") and "server_tracebacks" not in result
    return result


def _per_alert(cores: dict[str, float], wall_s: float, alerts: int) -> dict[str, float]:
    """CPU milliseconds per accepted alert: both groups' web processes together, PostgreSQL, Redis, the driver."""
    if not alerts:
        return {}
    kinds: dict[str, float] = {}
    for name, busy in cores.items():
        kind = "web" if name[:2] in ("A:", "B:") else name
        kinds[kind] = kinds.get(kind, 0.0) + busy
    return {k: round(v * wall_s * 1000 / alerts, 3) for k, v in kinds.items()}


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.nodes", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rate", type=float, default=25.0, help="alerts per second posted to EACH group")
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--processes", type=int, default=2, help="web processes per group (gridcmd serve --workers)")
    p.add_argument("--walls", type=int, default=20, help="wall-display sockets per group")
    p.add_argument("--port-a", type=int, default=8710, help="group A's port")
    p.add_argument("--port-b", type=int, default=8730, help="group B's port")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out-dir", type=Path, default=Path("var/bench"), help="the province cache; results")
    p.add_argument("--database-url", default=os.environ.get("GRIDCMD_BENCH_DATABASE_URL"))
    p.add_argument("--redis-url", default=os.environ.get("GRIDCMD_BENCH_REDIS_URL"),
                   help="the bench's own Redis database, flushed at start (default: REDIS_URL, db 0 → 6)")
    p.add_argument("--start-timeout", type=float, default=180.0, help="seconds a group may take to start")
    p.add_argument("--nice", type=int, default=10, help="niceness of the web processes (shared machine)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    result = asyncio.run(run(args))
    args.out_dir.mkdir(parents=True, exist_ok=True)
    path = args.out_dir / f"nodes-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))
    print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
    log(f"result written to {path}")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
