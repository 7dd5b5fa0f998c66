"""The ledger export (台账) at a province's month: `python -m bench.ledger_export [--rows N ...]`.

For each row count, fills last month of the demo city (DATABASE_URL, with the demo loaded) with that many synthetic
incidents, a share with a department order and a rating (bench.report_month's fill; one transaction, rolled back
at the end), then exports the whole range as the endpoint does (command.reports.ledger: server-side cursor, CSV
chunks, the write-only XLSX in a worker thread) and reports rows, seconds, bytes and the process's peak RSS during
each export (VmHWM, reset before it through /proc/self/clear_refs) next to the RSS before it. Flat memory: the peak
above the start stays the same whatever the row count."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from bench.report_month import FILL, ORDERS, RATINGS
from command.core.db import make_sessionmaker
from command.core.security import Principal
from command.reports import ledger
from command.reports import published_figures as pf

ADMIN = Principal(user_id=0, username="bench", role="admin")


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def _reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM := current RSS (Linux ≥ 4.0)


async def _measured(run: Callable[[], Awaitable[int]]) -> dict:
    _reset_peak()
    before = _status_kib("VmRSS")
    started = time.perf_counter()
    size = await run()
    took = time.perf_counter() - started
    peak = _status_kib("VmHWM")
    return {"seconds": round(took, 2), "bytes": size, "rss_before_mib": round(before / 1024, 1),
            "peak_rss_mib": round(peak / 1024, 1), "peak_above_before_mib": round((peak - before) / 1024, 1)}


async def _one(s: AsyncSession, rows: int, tz: str) -> dict:
    period = pf.last_closed("monthly", datetime.now(UTC).date())
    start, end = period.bounds(tz)
    grids = await s.scalar(text("SELECT count(*) FROM regions WHERE level = 'grid'"))
    cats = await s.scalar(text("SELECT count(*) FROM categories"))
    filled = time.perf_counter()
    await s.execute(text(FILL), {"total": rows, "start": start, "span": (end - start).total_seconds(),
                                 "grids": grids, "cats": cats})
    await s.execute(text(ORDERS))
    await s.execute(text(RATINGS))
    for table in ("incidents", "orders", "callbacks"):
        await s.execute(text(f"ANALYZE {table}"))
    fill_s = time.perf_counter() - filled
    zone = ZoneInfo(tz)

    def batches():  # type: ignore[no-untyped-def]
        return ledger.stream_rows(s, principal=ADMIN, start=start, end=end)

    async def to_csv() -> int:
        size = 0
        async for chunk in ledger.csv_chunks(batches(), zone):
            size += len(chunk)
        return size

    async def to_xlsx() -> int:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "ledger.xlsx"
            await ledger.write_xlsx(batches(), [], zone, path)
            return path.stat().st_size

    exported = await s.scalar(text("SELECT count(*) FROM incidents WHERE created_at >= :a AND created_at < :b "
                                   "AND status <> 'merged'"), {"a": start, "b": end})
    return {"rows": int(exported or 0), "fill_s": round(fill_s, 1), "csv": await _measured(to_csv),
            "xlsx": await _measured(to_xlsx)}


async def main(counts: list[int]) -> dict:
    url = os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+asyncpg://", 1)
    engine = create_async_engine(url)
    tz = os.environ.get("GRIDCMD_TIMEZONE", "Asia/Shanghai")
    runs = []
    try:
        for n in counts:
            async with make_sessionmaker(engine)() as s, s.begin():
                runs.append(await _one(s, n, tz))
                await s.rollback()  # the synthetic month never becomes visible; nothing to delete
    finally:
        await engine.dispose()
    return {"batch_rows": ledger.BATCH_ROWS, "runs": runs}


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000],
                    help="incidents in the month, one run each (default 100000 1000000)")
    args = ap.parse_args()
    print(json.dumps(asyncio.run(main(args.rows)), ensure_ascii=False, indent=1))
