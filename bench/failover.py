"""`python -m bench.failover`: the Redis failover drill at the issue's rate (200 alerts/s), printed as JSON.

The same drill as tests/ops/test_fault_sentinel.py and test_fault_cluster.py (tests/failover_drill.py, run from the
repository root): a local Sentinel set (scripts/redis-sentinel.sh on ports 5620-5624) or, with --cluster, a local
Redis Cluster of 3 masters and 3 replicas (scripts/redis-cluster.sh on six free ports of 7110-7189), the real app
on it, alerts at a steady rate, the master holding the dispatch state SIGKILLed, then acknowledged alerts lost,
double bookings, the failover time and the time until dispatch resumed. It uses the test database
(GRIDCMD_TEST_DB, migrated by scripts/provision.sh --test) and empties it first.

  python -m bench.failover [--cluster] [--rate 200] [--seconds 8] [--kill-at 3] [--workers 1500] [--web-workers 2]"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import tempfile
from pathlib import Path

from sqlalchemy import text

from command.core.db import make_engine

BASE_PORT = 5620


async def _main(args: argparse.Namespace) -> dict:
    from tests.environment import MUTABLE_TABLES, make_test_settings
    from tests.failover_drill import SentinelSet, drill
    from tests.procs import free_port
    from tests.redis_cluster import ClusterSet, free_base

    workdir = Path(tempfile.mkdtemp(prefix="gridcmd-failover-"))
    redis_set: ClusterSet | SentinelSet
    if args.cluster:
        redis_set = ClusterSet(free_base(), workdir)
    else:
        redis_set = SentinelSet(args.base_port, workdir)
        redis_set.stop()  # a set left over by an interrupted run
    redis_set.start()
    settings = make_test_settings(redis_url=redis_set.url)
    engine = make_engine(settings)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {', '.join(MUTABLE_TABLES)} RESTART IDENTITY CASCADE"))
        figures = await drill(engine, settings, redis_set, free_port(), rate=args.rate, seconds=args.seconds,
                              kill_at_s=args.kill_at, workers=args.workers, settle_s=60,
                              server_workers=args.web_workers)
    finally:
        await engine.dispose()
        redis_set.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    out = {"redis": "cluster" if args.cluster else "sentinel", **figures.as_dict()}
    out["resumed_within_failover_plus_2s"] = figures.resumed_s <= figures.failover_s + 2.0
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cluster", action="store_true", help="a Redis Cluster instead of a Sentinel set")
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--kill-at", type=float, default=3.0)
    parser.add_argument("--workers", type=int, default=1500, help="grid workers (max load 2 each)")
    parser.add_argument("--web-workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--base-port", type=int, default=BASE_PORT)
    print(json.dumps(asyncio.run(_main(parser.parse_args())), indent=2))


if __name__ == "__main__":
    main()
