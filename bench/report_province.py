"""Time the whole deployment's monthly 通报 (region `*`: every district ranked) on a generated history, in a
process of its own so its peak memory is the report's (issue 16's target: ≤ 60 s, ≤ 1 GiB):

    .venv/bin/python -m bench.report_province --database-url postgresql://…/gridcmd_bench --month 2026-11-01

Gathers the figures (the statistics by district, by category and the previous month's total, the assessment
ranking of the districts), renders the PDF and the XLSX, and stores the report as the scheduler would, inside a
transaction that is rolled back; checks that the figures equal what the statistics compute for the same month.
Prints JSON (bench.phase_reports runs it after its queries)."""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import date
from typing import Any

from bench.report_month import peak_rss_mib, time_report
from command.core.db import make_engine, make_sessionmaker
from command.core.settings import Settings
from command.reports import published_figures as pf
from command.reports import stats
from command.reports.periods import period_of

TZ = "Asia/Shanghai"


async def measure(database_url: str, month: date) -> dict[str, Any]:
    settings = Settings(database_url=database_url, db_statement_timeout_s=600, db_command_timeout_s=900)
    engine = make_engine(settings, pool_size=1)
    period = period_of("month", month)
    target = pf.Target("monthly", pf.WHOLE, period)
    try:
        async with make_sessionmaker(engine)() as s, s.begin():
            timed = await time_report(s, target, TZ)
            start, end = period.bounds(TZ)
            total = stats.total(await stats.compute(s, principal=pf.SYSTEM, q=stats.Query(
                start=start, end=end, group="total", tz=TZ)))
            await s.rollback()
    finally:
        await engine.dispose()
    figures = timed.pop("figures")
    return {"region": pf.WHOLE, "period": period.as_dict(), "incidents": figures["total"]["received"],
            "districts": len(figures["by_region"]), "ranked_units": len(figures["ranking"]["rows"]), **timed,
            "total_equals_stats": figures["total"]["received"] == total.received
            and figures["total"]["resolved"] == total.resolved, "peak_rss_mib": peak_rss_mib()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--database-url", required=True)
    ap.add_argument("--month", required=True, help="a day in the month reported")
    args = ap.parse_args(argv)
    result = asyncio.run(measure(args.database_url, date.fromisoformat(args.month)))
    print(json.dumps(result, ensure_ascii=False))
    return 0 if result["total_equals_stats"] and result["stored"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
