"""The figures of a published report (通报) for one region and period, gathered from the statistics and the
assessment so they equal what /api/v1/stats and /api/v1/assessment answer for the same period.

Reproducible: every figure is bounded by the period's end (a deadline counts as overdue if it went overdue before
the end and was not met by then; supervisions raised within the period), and the monthly ranking is the published
assessment of the closed month when there is one, so regenerating a past period gives the same figures."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from command.core.security import Principal
from command.reports import assessment, stats
from command.reports.assessment_indices import BY_CODE
from command.reports.periods import Period, period_of, previous
from geo.validate import WHOLE_DEPLOYMENT

WHOLE = WHOLE_DEPLOYMENT  # the report region that is every top-level region (全域)
WHOLE_NAME = "全域"

KINDS = ("daily", "weekly", "half_monthly", "monthly")
PERIOD_KIND = {"daily": "day", "weekly": "week", "half_monthly": "half_month", "monthly": "month"}
TITLES = {"daily": "日交办", "weekly": "周汇总", "half_monthly": "半月研判", "monthly": "月通报"}
CHILD_LEVEL = {"all": "district", "district": "street", "street": "community", "community": "grid", "grid": "grid"}
LISTED = 200  # incidents listed by name in a daily hand-over (the counts are always exact)
# Sort and hash memory for the report's statistics (this transaction only): a province month's aggregates spill
# to disk at PostgreSQL's default 4 MB; at 64 MB the district query over 1.7 million incidents went 15.3 -> 10.8 s.
# One report is gathered at a time (the scheduler), so the cost is bounded: a few nodes × parallel workers.
WORK_MEM = "64MB"
SYSTEM = Principal(user_id=0, username="scheduler", role="admin")


@dataclass(frozen=True)
class Target:
    kind: str
    region_code: str
    period: Period


def last_closed(kind: str, today: Any) -> Period:
    """The latest period of `kind` that ended on or before `today` (a local date)."""
    return previous(period_of(PERIOD_KIND[kind], today))


def scope_of(code: str) -> str | None:
    """The statistics' region filter for a report's region: none for the whole deployment."""
    return None if code == WHOLE else code


async def _region(session: AsyncSession, code: str) -> dict[str, Any]:
    if code == WHOLE:  # every top-level region: a province's or a city's deployment has several districts
        return {"code": WHOLE, "name": WHOLE_NAME, "level": "all"}
    row = (await session.execute(text("SELECT code, name, level FROM regions WHERE code = :c"),
                                 {"c": code})).mappings().first()
    return dict(row) if row else {"code": code, "name": code, "level": "district"}


async def _stats(session: AsyncSession, region: str, period: Period, tz: str, group: str) -> list[stats.Figures]:
    start, end = period.bounds(tz)
    return await stats.compute(session, principal=SYSTEM,
                               q=stats.Query(start=start, end=end, group=group, region_code=scope_of(region), tz=tz))


async def _names(session: AsyncSession, keys: list[str]) -> dict[str, str]:
    rows = await session.execute(text("SELECT code, name FROM regions WHERE code = ANY(:k) UNION ALL "
                                      "SELECT code, name_zh FROM categories WHERE code = ANY(:k)"), {"k": keys})
    return {r.code: r.name for r in rows}


def _row(f: stats.Figures, name: str) -> dict[str, Any]:
    return {"key": f.key, "name": name, "received": f.received, "resolved": f.resolved,
            "resolved_on_time": f.resolved_on_time, "reworked": f.reworked, "rates": dict(f.rates)}


_NEW = """SELECT i.id, i.public_id::text AS public_id, i.category_code, i.region_code, i.status, i.priority,
  to_char(i.created_at AT TIME ZONE :tz, 'MM-DD HH24:MI') AS at, left(i.description, 40) AS description
FROM incidents i WHERE i.created_at >= :start AND i.created_at < :end AND i.status <> 'merged'
  {scope} ORDER BY i.created_at, i.id"""
_OVERDUE = """SELECT DISTINCT ON (i.id) i.id, i.public_id::text AS public_id, i.category_code, i.region_code,
  i.status, i.priority, to_char(d.overdue_at AT TIME ZONE :tz, 'MM-DD HH24:MI') AS at, d.kind AS description
FROM deadlines d JOIN incidents i ON i.id = d.incident_id
WHERE d.overdue_at < :end AND (d.met_at IS NULL OR d.met_at >= :end) AND i.created_at < :end
  {scope} ORDER BY i.id, d.overdue_at"""
_SUPERVISED = """SELECT i.id, i.public_id::text AS public_id, i.category_code, i.region_code, i.status, i.priority,
  to_char(min(e.created_at) AT TIME ZONE :tz, 'MM-DD HH24:MI') AS at, count(*)::text || ' 次督办' AS description
FROM events e JOIN incidents i ON i.id = e.incident_id
WHERE e.kind = 'supervision.raised' AND e.created_at >= :start AND e.created_at < :end
  {scope} GROUP BY i.id ORDER BY min(e.created_at), i.id"""


async def _listing(session: AsyncSession, sql: str, params: dict[str, Any]) -> dict[str, Any]:
    scope = "" if params["region"] == WHOLE else "AND i.region_path @> ARRAY[CAST(:region AS varchar)]"
    rows = [dict(r) for r in (await session.execute(text(sql.format(scope=scope)), params)).mappings()]
    return {"count": len(rows), "rows": rows[:LISTED]}


async def gather(session: AsyncSession, target: Target, *, tz: str) -> dict[str, Any]:
    """Everything the report shows, as JSON-ready data (stored with the report)."""
    await session.execute(text(f"SET LOCAL work_mem = '{WORK_MEM}'"))
    region = await _region(session, target.region_code)
    period = target.period
    by_region = await _stats(session, target.region_code, period, tz, "region")
    by_category = await _stats(session, target.region_code, period, tz, "category")
    prev_total = stats.total(await _stats(session, target.region_code, previous(period), tz, "total"))
    names = await _names(session, [f.key for f in by_region + by_category])
    out: dict[str, Any] = {
        "kind": target.kind, "title": TITLES[target.kind], "region": region, "period": period.as_dict(),
        "total": _row(stats.total(by_region), region["name"]), "previous_total": _row(prev_total, "上期"),
        "by_region": [_row(f, names.get(f.key, f.key)) for f in by_region],
        "by_category": [_row(f, names.get(f.key, f.key)) for f in by_category],
    }
    start, end = period.bounds(tz)
    if target.kind == "daily":
        params = {"start": start, "end": end, "tz": tz, "region": target.region_code}
        out["new"] = await _listing(session, _NEW, params)
        out["overdue"] = await _listing(session, _OVERDUE, params)
        out["supervised"] = await _listing(session, _SUPERVISED, params)
    if target.kind == "monthly":
        out["ranking"] = await ranking(session, target.region_code, CHILD_LEVEL.get(region["level"], "grid"),
                                       period, tz)
    return out


async def ranking(session: AsyncSession, region: str, level: str, period: Period, tz: str) -> dict[str, Any]:
    """The assessment ranking of the units one level below the region: the published figures of the closed
    month when there are any (so a later scheme change does not alter a past report), else computed now."""
    req = assessment.Request(level, period, scope_of(region), tz)
    result = await assessment.published(session, req) or await assessment.compute(session, req)
    codes = [w["code"] for w in result["scheme"]["indices"]]
    return {"level": level, "published": result["published"], "scheme": result["scheme"]["name"],
            "indices": [{"code": c, "name": BY_CODE[c].name_zh if c in BY_CODE else c} for c in codes],
            "rows": [{"rank": r["rank"], "unit": r["unit"], "name": r["name"], "score": r["score"],
                      "values": [(r["indices"].get(c) or {}).get("value") for c in codes]} for r in result["rows"]]}


def period_label(period: dict[str, str]) -> str:
    return period["start"] if period["start"] == period["last_day"] else f"{period['start']} 至 {period['last_day']}"
