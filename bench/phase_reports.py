"""The report pages' queries on a generated history (issue 16 item 6 and its targets): the assessment ranking of
one month for the whole province at street level, and for one street at grid level — through the daily facts and
through the raw rows — p95 cold (a new connection for every run: nothing cached in the session, the plan cache
empty; the OS and PostgreSQL's shared buffers stay warm) and warm (the same connection, run after run).

    .venv/bin/python -m bench.phase_reports                      # a year at 56,000 a day: 20.4 million (make bench)
    .venv/bin/python -m bench.phase_reports --start 2026-11-01 --days 30 --per-day 34000   # a month, 1 million

generates the history first (unless --skip-generate or that range holds incidents already), folds it into the
daily facts, measures, then times the whole deployment's monthly 通报 of that month (figures, PDF, XLSX, stored;
peak memory; bench/report_province.py) and writes JSON."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bench.history import TZ, generate
from bench.scale import SCALES
from bench.setup import bench_database_url, ensure_database
from command.core.db import make_engine, make_sessionmaker
from command.core.settings import Settings
from command.ops.migrate import upgrade
from command.reports import assessment, daily_facts
from command.reports.periods import period_of


def _p95(xs: list[float]) -> float:
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, round(0.95 * (len(xs) - 1)))], 1)


async def _timed(engine: AsyncEngine, call: Callable[[AsyncSession], Awaitable[Any]], *, runs: int,
                 cold: bool) -> dict[str, Any]:
    """ms per call; cold: every run on a fresh connection (opened before the clock starts)."""
    sm: async_sessionmaker[AsyncSession] = make_sessionmaker(engine)
    out: list[float] = []
    if cold:
        for _ in range(runs):
            await engine.dispose()  # the next session opens a new connection (a new backend: no plans, no cache)
            async with sm() as session:
                await session.execute(text("SELECT 1"))  # connected and introspected before the clock starts
                t0 = time.perf_counter()
                await call(session)
                out.append((time.perf_counter() - t0) * 1000)
                await session.rollback()
    else:
        async with sm() as warm:
            await call(warm)  # the first run of a warm series is not counted
            await warm.rollback()
            for _ in range(runs):
                t0 = time.perf_counter()
                await call(warm)
                out.append((time.perf_counter() - t0) * 1000)
                await warm.rollback()
    return {"runs": runs, "p50_ms": round(statistics.median(out), 1), "p95_ms": _p95(out), "max_ms": round(max(out), 1)}


async def fold(settings: Settings, engine: AsyncEngine, *, today: date) -> dict[str, Any]:
    """Daily facts for every generated day (passes until none is missing)."""
    sm = make_sessionmaker(engine)
    t0 = time.perf_counter()
    days = rows = 0
    while True:
        async with sm() as session:
            await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            r = await daily_facts.refresh(session, tz=TZ, today=today, max_new_days=31)
            await session.commit()
        days += len(r.days)
        rows += r.rows
        if not r.days:
            break
    secs = time.perf_counter() - t0
    return {"days": days, "rows": rows, "seconds": round(secs, 1), "s_per_day": round(secs / max(days, 1), 2)}


async def measure(settings: Settings, *, month: date, runs: int, raw_runs: int) -> dict[str, Any]:
    engine = make_engine(settings, pool_size=2)
    # As a web process runs the page (web/app.py freezes what startup built): without it, a full collection
    # walking the modules and metadata fell inside a timed call now and then (page p95 165-240 ms against p50 110).
    gc.collect()
    gc.freeze()
    try:
        return await _measure(engine, month=month, runs=runs, raw_runs=raw_runs)
    finally:
        gc.unfreeze()
        await engine.dispose()


async def _measure(engine: AsyncEngine, *, month: date, runs: int, raw_runs: int) -> dict[str, Any]:
    period = period_of("month", month)
    async with make_sessionmaker(engine)() as s:
        street = await s.scalar(text(
            "SELECT region_path[2] FROM incidents WHERE created_at >= :a AND created_at < :b "
            "GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"), dict(zip(("a", "b"), period.bounds(TZ), strict=True)))
    cases = {"province_street": assessment.Request("street", period, None, TZ),
             "street_grid": assessment.Request("grid", period, street, TZ)}
    out: dict[str, Any] = {"month": period.as_dict(), "street": street}
    for name, req in cases.items():
        def facts(s: AsyncSession, req: assessment.Request = req) -> Awaitable[Any]:
            return assessment.sums(s, req)

        def raw(s: AsyncSession, req: assessment.Request = req) -> Awaitable[Any]:
            return assessment.raw_sums(s, req)

        def page(s: AsyncSession, req: assessment.Request = req) -> Awaitable[Any]:
            return assessment.scores(s, req)  # what GET /assessment/scores computes: + previous month, names

        async with make_sessionmaker(engine)() as s:
            same = await assessment.sums(s, req) == await assessment.raw_sums(s, req)
            units = len(await assessment.sums(s, req))
        out[name] = {"units": units, "facts_equal_raw": same,
                     "facts": {"cold": await _timed(engine, facts, runs=runs, cold=True),
                               "warm": await _timed(engine, facts, runs=runs, cold=False)},
                     "page_scores": {"cold": await _timed(engine, page, runs=runs, cold=True),
                                     "warm": await _timed(engine, page, runs=runs, cold=False)},
                     "raw": {"cold": await _timed(engine, raw, runs=raw_runs, cold=True),
                             "warm": await _timed(engine, raw, runs=raw_runs, cold=False)}}
        print(f"  {name}: {json.dumps(out[name])}", flush=True)
    return out


async def run(args: argparse.Namespace) -> dict[str, Any]:
    url = args.database_url or bench_database_url(
        os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/gridcmd"))
    ensure_database(url)
    settings = Settings(database_url=url, db_statement_timeout_s=600, db_command_timeout_s=900)
    upgrade(settings)  # the bench's database (bench/setup.py): a loaded province's regions are used as they are
    start = date.fromisoformat(args.start)
    result: dict[str, Any] = {"scale": args.scale, "args": vars(args)}
    if not args.skip_generate and _generated(settings.sync_database_url, start, args.days):
        print("incidents of that range are there already; not generating again", flush=True)
    elif not args.skip_generate:
        print(f"generating {args.days} days × {args.per_day:,d} incidents from {start}", flush=True)
        result["generate"] = generate(settings.sync_database_url, start=start, days=args.days, per_day=args.per_day,
                                      scale=SCALES[args.scale])
    engine = make_engine(settings, pool_size=2)
    result["fold"] = await fold(settings, engine, today=start + timedelta(days=args.days))
    await engine.dispose()
    print(f"  daily facts: {result['fold']}", flush=True)
    last_month = date.fromisoformat(args.month) if args.month else start + timedelta(days=args.days - 1)
    result["queries"] = await measure(settings, month=last_month, runs=args.runs, raw_runs=args.raw_runs)
    result["monthly_report"] = whole_report(url, last_month)
    print(f"  monthly 通报 of the whole deployment: {json.dumps(result['monthly_report'], ensure_ascii=False)}",
          flush=True)
    return result


def whole_report(url: str, month: date) -> dict[str, Any]:
    """The whole deployment's monthly 通报, timed in a process of its own (bench/report_province.py) so that its
    peak memory is the report's alone; the wall time of that process too (imports included)."""
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "bench.report_province", "--database-url", url,
                           "--month", month.isoformat()], capture_output=True, text=True, check=False)
    wall = round(time.perf_counter() - t0, 1)
    if proc.returncode != 0 and not proc.stdout.strip():
        return {"error": proc.stderr[-2000:], "process_s": wall}
    return {**json.loads(proc.stdout.strip().splitlines()[-1]), "process_s": wall}


def _generated(url: str, start: date, days: int) -> bool:
    import psycopg

    def local(day: date) -> datetime:  # the generator's days are local days (bench.history.TZ)
        return datetime.combine(day, dtime(), ZoneInfo(TZ))

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        return bool(conn.execute(
            "SELECT EXISTS (SELECT 1 FROM incidents WHERE created_at >= %s AND created_at < %s)",
            (local(start), local(start + timedelta(days=days)))).fetchone()[0])  # type: ignore[index]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--database-url", help="default: DATABASE_URL's database with _bench (bench/setup.py)")
    ap.add_argument("--scale", default="province", choices=sorted(SCALES))
    ap.add_argument("--start", default="2026-01-01")
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--per-day", type=int, default=56_000)
    ap.add_argument("--month", help="the month measured (a day in it); default: the last generated day's")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--raw-runs", type=int, default=3)
    ap.add_argument("--skip-generate", action="store_true")
    ap.add_argument("--out", default="var/bench/history.json")
    args = ap.parse_args(argv)
    result = asyncio.run(run(args))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1, default=str))
    print(f"result written to {args.out}", flush=True)
    ok = all(result["queries"][k]["facts_equal_raw"] for k in ("province_street", "street_grid")) \
        and result["monthly_report"].get("total_equals_stats") is True
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
