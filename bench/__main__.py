"""`python -m bench`: the province benchmark (`--small` for the CI-sized run). See docs/benchmarks.md."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from bench.scale import PROVINCE, SMALL


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--small", action="store_true", help="small scale: a few thousand regions and workers, seconds")
    p.add_argument("--seed", type=int, default=1, help="generator seed (the cache is per scale and seed)")
    p.add_argument("--database-url", default=os.environ.get("GRIDCMD_BENCH_DATABASE_URL"),
                   help="the bench's own database (default: DATABASE_URL's server, database <name>_bench)")
    p.add_argument("--redis-url", default=os.environ.get("GRIDCMD_BENCH_REDIS_URL"),
                   help="the bench's own Redis database, flushed at start (default: REDIS_URL, db 0 → 6)")
    p.add_argument("--port-base", type=int, default=8600, help="web processes listen on port-base+1 ...")
    p.add_argument("--processes", type=int, default=2, help="web processes under test")
    p.add_argument("--out-dir", type=Path, default=Path("var/bench"), help="cache and result directory")
    p.add_argument("--reload", action="store_true", help="re-import the region set even if the database has it")
    p.add_argument("--seconds", type=float, help="override each timed phase's duration")
    p.add_argument("--e2e-seconds", type=float, help="override the end-to-end phase's duration")
    p.add_argument("--e2e-rate", type=float, help="override the end-to-end alert rate")
    p.add_argument("--track-rate", type=float, help="override the tracks phase's position frames per second")
    p.add_argument("--only", default="", help="comma-separated phases to run (default all: locate, assign, tiles, "
                                              "e2e, positions, tracks, e2e_floor, e2e_floor_db, intake_floor)")
    p.add_argument("--profile", type=Path, help="py-spy the first web process during each phase, into this dir")
    p.add_argument("--nice", type=int, default=10, help="niceness of the web processes (shared machine)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    from bench.run import run_benchmark

    scale = SMALL if args.small else PROVINCE
    return run_benchmark(args, scale)


if __name__ == "__main__":
    sys.exit(main())
