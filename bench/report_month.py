"""Measure the monthly published report (月通报) on the demo city: `python -m bench.report_month [--per-day N]`.

Fills the previous month with synthetic incidents (N a day over every grid of the demo city, a share dispatched to
a department, resolved and rated; in one transaction that is rolled back), then times one
monthly report of the top region — figures, assessment ranking, PDF and XLSX — in this process and reports its
wall time and the process's peak RSS (ru_maxrss, which includes the import of WeasyPrint and the app)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from command.core.db import make_sessionmaker
from command.reports import published
from command.reports import published_figures as pf
from command.reports import published_render as render

FILL = """
WITH g AS (SELECT row_number() OVER (ORDER BY code) - 1 AS k, code, path, ST_PointOnSurface(geom) AS p
           FROM regions WHERE level = 'grid'),
     c AS (SELECT row_number() OVER (ORDER BY code) - 1 AS k, code FROM categories)
INSERT INTO incidents (public_id, category_code, description, priority, item_type, status, channel, lon, lat, geom,
  region_code, region_path, created_at, updated_at, dispatched_at, resolved_at, resolve_due_at, respond_due_at)
SELECT gen_random_uuid(), c.code, '基准测试事件', 3, 'promise',
  CASE WHEN n % 10 < 6 THEN 'closed' ELSE 'dispatched' END, 'bench', ST_X(g.p), ST_Y(g.p), g.p, g.code, g.path,
  t, t, t + interval '5 minutes', CASE WHEN n % 10 < 6 THEN t + interval '30 hours' END,
  t + interval '48 hours', t + interval '2 hours'
FROM generate_series(0, CAST(:total AS int) - 1) AS n
CROSS JOIN LATERAL (SELECT CAST(:start AS timestamptz)
                    + (n * CAST(:span AS float8) / CAST(:total AS int)) * interval '1 second' AS t) tt
JOIN g ON g.k = n % CAST(:grids AS int)
JOIN c ON c.k = (n / 7) % CAST(:cats AS int)
"""
ORDERS = """
INSERT INTO orders (incident_id, assignee_kind, department_code, role, status, created_at, updated_at, accepted_at,
  ack_due_at, done_at, due_at)
SELECT i.id, 'department', d.code, 'lead', CASE WHEN i.resolved_at IS NOT NULL THEN 'done' ELSE 'signed_for' END,
  i.created_at, i.created_at, i.created_at + interval '20 minutes', i.created_at + interval '1 hour',
  i.resolved_at, i.resolve_due_at
FROM incidents i CROSS JOIN LATERAL (SELECT code FROM departments ORDER BY code OFFSET (i.id % 17) LIMIT 1) d
WHERE i.channel = 'bench' AND i.id % 3 <> 0
"""
RATINGS = """
INSERT INTO callbacks (incident_id, rating, via, reopened, created_at)
SELECT id, CASE WHEN id % 5 = 0 THEN 'dissatisfied' ELSE 'satisfied' END, 'phone', false,
  resolved_at + interval '1 hour'
FROM incidents WHERE channel = 'bench' AND resolved_at IS NOT NULL AND id % 2 = 0
"""


async def main(per_day: int) -> dict:
    url = os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+asyncpg://", 1)
    engine = create_async_engine(url)
    tz = os.environ.get("GRIDCMD_TIMEZONE", "Asia/Shanghai")
    period = pf.last_closed("monthly", datetime.now(UTC).date())
    start, end = period.bounds(tz)
    # One transaction, rolled back at the end: the synthetic month never becomes visible to anyone else and
    # nothing has to be deleted (deleting 60,000 incidents row by row through their foreign keys is slow).
    async with make_sessionmaker(engine)() as s, s.begin():
        grids = await s.scalar(text("SELECT count(*) FROM regions WHERE level = 'grid'"))
        cats = await s.scalar(text("SELECT count(*) FROM categories"))
        total = per_day * period.days
        await s.execute(text(FILL), {"total": total, "start": start, "span": (end - start).total_seconds(),
                                     "grids": grids, "cats": cats})
        await s.execute(text(ORDERS))
        await s.execute(text(RATINGS))
        top = await s.scalar(text("SELECT code FROM regions WHERE depth = 0 ORDER BY code LIMIT 1"))
        # Fresh planner statistics, as autovacuum would give (stale ones make the assessment query 200× slower);
        # ANALYZE in the filling transaction counts its own uncommitted rows.
        for table in ("incidents", "orders", "callbacks", "events", "deadlines"):
            await s.execute(text(f"ANALYZE {table}"))
        target = pf.Target("monthly", top, period)
        timed = await time_report(s, target, tz)
        await s.rollback()
    await engine.dispose()
    figures = timed.pop("figures")
    return {"region": top, "period": period.as_dict(), "incidents": total, **timed,
            "ranked_units": len(figures["ranking"]["rows"]), "peak_rss_mib": peak_rss_mib()}


async def time_report(s: AsyncSession, target: pf.Target, tz: str) -> dict[str, Any]:
    """One report gathered, rendered as PDF and XLSX, then generated again and stored as the scheduler does (in
    the caller's transaction); the figures and each step's seconds."""
    t1 = time.perf_counter()
    figures = await pf.gather(s, target, tz=tz)
    t2 = time.perf_counter()
    pdf = render.pdf(figures, analysis=None, status="released", generated=datetime.now(UTC))
    t3 = time.perf_counter()
    xlsx = render.xlsx(figures, analysis=None)
    t4 = time.perf_counter()
    stored = await published.generate(s, target, tz=tz)  # the scheduler's whole path: gather, render, store
    t5 = time.perf_counter()
    return {"figures": figures, "figures_s": round(t2 - t1, 2), "pdf_s": round(t3 - t2, 2),
            "xlsx_s": round(t4 - t3, 2), "one_report_s": round(t4 - t1, 2), "generate_stored_s": round(t5 - t4, 2),
            "stored": stored is not None, "pdf_bytes": len(pdf), "xlsx_bytes": len(xlsx)}


def peak_rss_mib() -> float:
    """This process's peak resident memory (ru_maxrss: imports included)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--per-day", type=int, default=2000, help="incidents a day in the month (default 2000)")
    args = ap.parse_args()
    print(json.dumps(asyncio.run(main(args.per_day)), ensure_ascii=False, indent=1))
