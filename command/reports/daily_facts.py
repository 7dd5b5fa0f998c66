"""Daily facts: the assessment's fact columns summed per local day and unit, so a month of a province is read
from ~30 small rows per unit instead of joining a million incidents with their orders, events, deadlines and
callbacks. Exact, not approximate:

- A day's rows are the sums of the very fact rows the raw query makes (assessment_indices.incident_facts_sql /
  department_facts_sql), grouped: per grid and category, per community, street and district, and per department
  and street (its path to depth 2). A day is computed whole, in one snapshot (`refresh`).
- Every change to what an incident's facts read (its own columns, its orders, deadlines, callbacks, events) writes
  an event with its incident_id in the same transaction (core.events; the closed loop has no silent update). So
  the days whose facts may have moved since a pass are the creation days of the incidents with events of
  txid >= the watermark: the job recomputes exactly those, then moves the watermark to its snapshot's xmin (every
  older transaction has ended; the relay's rule, command/realtime/relay.py).
- A reader (`sums`) takes from the table only days that are computed, in the same time zone, and not dirty now
  (no event of txid >= the watermark on their incidents); every other day of the period — today, a day touched
  since the last pass, a day not computed yet — goes through the raw query. So the answer equals the raw one at
  every moment; the job only decides how much of it is fast.

Why a job and not triggers: intake stays as it is (a trigger on events, orders and deadlines would add a write
to every alert's transaction and make concurrent alerts of one grid and day contend for one row); the cost moves
to a pass every scheduler tick that recomputes the few touched days."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from command.reports import assessment_indices as ai
from command.reports.periods import Period
from geo.models import LEVEL_DEPTH, Level

# The columns kept per day (the worker-only quantities are not: the worker level is always read raw).
COLUMNS = tuple(c for c in ai.COLUMNS if c not in ("self_found", "duty_s", "patrol_m"))
FACT_LEVELS = frozenset({*ai.REGION_LEVELS, "department"})
DEPARTMENT_DEPTH = 2  # department rows keep the incidents' path down to the street
_LOCK = 0x0DA1F  # advisory lock: one refresher at a time (another pass would only redo the same work)


# The lowest transaction still running for this database: the snapshot's in-progress ids, less those positively
# seen running in ANOTHER database (xids are cluster-wide: a long report elsewhere must not hold the watermark
# back), else the snapshot's xmax. A transaction that ended between the snapshot and the pg_stat_activity read is
# not seen anywhere and so is kept: the mark can only lag, never pass a writer of ours.
_XMIN = """
WITH q AS (SELECT pg_current_snapshot() AS s)
SELECT LEAST(pg_snapshot_xmax(q.s)::text::bigint, (
  SELECT min(x::text::bigint) FROM pg_snapshot_xip(q.s) x WHERE NOT EXISTS (
    SELECT 1 FROM pg_stat_activity a WHERE a.datname IS DISTINCT FROM current_database()
      AND a.backend_xid IS NOT NULL AND a.backend_xid::text::bigint = x::text::bigint % 4294967296)))
FROM q"""


def _day_sql(tz_param: str = ":tz") -> str:
    return f"(i.created_at AT TIME ZONE {tz_param})::date"


@dataclass
class RefreshResult:
    days: list[date] = field(default_factory=list)
    rows: int = 0
    watermark: int = 0
    skipped: bool = False  # another refresher held the lock


async def _state(session: AsyncSession) -> tuple[int, str] | None:
    row = (await session.execute(text("SELECT watermark, tz FROM daily_facts_state WHERE id = 1"))).first()
    return None if row is None else (int(row[0]), str(row[1]))


async def _recompute_day(session: AsyncSession, day: date, tz: str) -> int:
    """Replace one day's rows by the grouped sums of its raw fact rows (one snapshot: the caller's)."""
    start, end = Period("day", day, day + timedelta(days=1)).bounds(tz)
    params = {"start": start, "end": end, "day": day}
    await session.execute(text("DELETE FROM daily_facts WHERE day = :day"), {"day": day})
    cols = ", ".join(COLUMNS)
    sums = ", ".join(f"sum({c})" for c in COLUMNS)
    parts = []
    for level in ai.REGION_LEVELS:  # every region level from one pass over the day's incident facts
        n = LEVEL_DEPTH[Level(level)] + 1
        category, by = ("category", ", category") if level == "grid" else ("''", "")
        parts.append(f"SELECT CAST(:day AS date), '{level}', rpath[{n}], rpath[1:{n}], {category}, {sums} "
                     f"FROM f WHERE rpath[{n}] IS NOT NULL GROUP BY rpath[1:{n}], rpath[{n}]{by}")
    insert = f"INSERT INTO daily_facts (day, level, unit, path, category_code, {cols}) "
    result = await session.execute(text(
        f"WITH f AS MATERIALIZED ({ai.incident_facts_sql(ai.PERIOD_WHERE)}) {insert}"
        + " UNION ALL ".join(parts)), params)
    rows = result.rowcount or 0  # type: ignore[attr-defined]
    path = f"COALESCE(rpath[1:{DEPARTMENT_DEPTH}], '{{}}')"
    result = await session.execute(text(
        f"{insert} SELECT CAST(:day AS date), 'department', unit, {path}, '', {sums} "
        f"FROM ({ai.department_facts_sql(ai.PERIOD_WHERE)}) f GROUP BY unit, {path}"), {**params, "kind": "department"})
    rows += result.rowcount or 0  # type: ignore[attr-defined]
    await session.execute(text(
        "INSERT INTO daily_facts_days (day, tz) VALUES (:day, :tz) "
        "ON CONFLICT (day) DO UPDATE SET tz = EXCLUDED.tz, computed_at = now()"), {"day": day, "tz": tz})
    return rows


async def refresh(session: AsyncSession, *, tz: str, today: date, max_new_days: int = 31) -> RefreshResult:
    """One pass: recompute every computed day touched since the watermark, then up to `max_new_days` closed days
    not computed yet (newest first), and move the watermark to this snapshot's xmin. `session` must be in a fresh
    REPEATABLE READ transaction (the xmin and everything read must come from one snapshot); never commits."""
    out = RefreshResult()
    if not await session.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": _LOCK}):
        out.skipped = True
        return out
    xmin = int(await session.scalar(text(_XMIN)))
    state = await _state(session)
    if state is None or state[1] != tz:
        # First pass, or the days were cut in another zone: start again from nothing.
        await session.execute(text("DELETE FROM daily_facts"))
        await session.execute(text("DELETE FROM daily_facts_days"))
        touched: set[date] = set()
    else:
        touched = set(await session.scalars(text(
            f"SELECT DISTINCT {_day_sql()} FROM events e JOIN incidents i ON i.id = e.incident_id "
            "WHERE e.txid >= :w"), {"w": state[0], "tz": tz}))
        touched &= set(await session.scalars(text("SELECT day FROM daily_facts_days WHERE day = ANY(:d)"),
                                             {"d": list(touched)}))
    missing = list(await session.scalars(text(
        f"SELECT d::date FROM generate_series((SELECT min({_day_sql()}) FROM incidents i), "
        "CAST(:today AS date) - 1, interval '1 day') d "
        "WHERE NOT EXISTS (SELECT 1 FROM daily_facts_days f WHERE f.day = d::date) ORDER BY d DESC LIMIT :n"),
        {"tz": tz, "today": today, "n": max_new_days}))
    for day in sorted(touched | {d for d in missing if d < today}):
        if day >= today:
            continue
        out.rows += await _recompute_day(session, day, tz)
        out.days.append(day)
    await session.execute(text(
        "INSERT INTO daily_facts_state (id, watermark, tz) VALUES (1, :w, :tz) ON CONFLICT (id) DO UPDATE "
        "SET watermark = EXCLUDED.watermark, tz = EXCLUDED.tz, updated_at = now()"), {"w": xmin, "tz": tz})
    out.watermark = xmin
    return out


async def fact_days(session: AsyncSession, *, period: Period, tz: str) -> set[date]:
    """The days of `period` that the table answers exactly right now (computed in `tz`, not touched since)."""
    state = await _state(session)
    if state is None or state[1] != tz:
        return set()
    computed = set(await session.scalars(text(
        "SELECT day FROM daily_facts_days WHERE day >= :s AND day < :e AND tz = :tz"),
        {"s": period.start, "e": period.end, "tz": tz}))
    if not computed:
        return computed
    start, end = period.bounds(tz)
    dirty = set(await session.scalars(text(
        f"SELECT DISTINCT {_day_sql()} FROM events e JOIN incidents i ON i.id = e.incident_id "
        "WHERE e.txid >= :w AND i.created_at >= :start AND i.created_at < :end"),
        {"w": state[0], "tz": tz, "start": start, "end": end}))
    return computed - dirty


def _runs(days: list[date]) -> list[tuple[date, date]]:
    """Sorted days as [first, last + 1) runs."""
    out: list[tuple[date, date]] = []
    for d in days:
        if out and out[-1][1] == d:
            out[-1] = (out[-1][0], d + timedelta(days=1))
        else:
            out.append((d, d + timedelta(days=1)))
    return out


def usable(level: str, scope_depth: int | None) -> bool:
    """Whether the table can answer `level` within a scope at `scope_depth` (0 = district; None = everything):
    region rows carry their path down to their own level, department rows down to the street."""
    if level not in FACT_LEVELS:
        return False
    if scope_depth is None:
        return True
    if level == "department":
        return scope_depth < DEPARTMENT_DEPTH
    return scope_depth <= LEVEL_DEPTH[Level(level)]


async def _scope_depth(session: AsyncSession, scope: str | None) -> int | None:
    if scope is None:
        return None
    path = await session.scalar(text("SELECT path FROM regions WHERE code = :c"), {"c": scope})
    return None if path is None else len(path) - 1


_SUMMED = frozenset(ai.COLUMNS)


def _add(into: dict[str, dict[str, float]], rows: Any) -> None:
    # One pass over each row's items: a `column in row` test per column was a sixth of the province page's time.
    for r in rows:
        unit = into.setdefault(str(r["unit"]), dict.fromkeys(ai.COLUMNS, 0.0))
        for c, v in r.items():
            if v is not None and c in _SUMMED:
                unit[c] += float(v)


async def sums(session: AsyncSession, *, level: str, period: Period, scope: str | None, tz: str,
               params: dict[str, Any]) -> dict[str, dict[str, float]]:
    """unit → column → sum over `period`, equal to assessment_indices.sums_sql's: whole days the table answers
    are read from it, the rest from the raw rows."""
    depth = await _scope_depth(session, scope)
    if scope is not None and depth is None:
        days: set[date] = set()
    else:
        days = await fact_days(session, period=period, tz=tz) if usable(level, depth) else set()
    out: dict[str, dict[str, float]] = {}
    if days:
        where = "level = :level AND day = ANY(:days)"
        if depth is not None:
            where += f" AND path[{depth + 1}] = :scope"
        total = ", ".join(f"sum({c}) AS {c}" for c in COLUMNS)
        _add(out, (await session.execute(text(
            f"SELECT unit, {total} FROM daily_facts WHERE {where} GROUP BY unit"),
            {"level": level, "days": sorted(days), "scope": scope})).mappings())
    all_days = [period.start + timedelta(days=n) for n in range(period.days)]
    raw = _runs([d for d in all_days if d not in days])
    if raw:
        run_params: dict[str, Any] = dict(params)
        clauses = []
        for n, (a, b) in enumerate(raw):
            s, e = Period("range", a, b).bounds(tz)
            run_params[f"rs{n}"], run_params[f"re{n}"] = s, e
            clauses.append(f"(i.created_at >= :rs{n} AND i.created_at < :re{n})")
        if len(raw) == 1:  # the common case keeps the plain form the planner knows
            run_params["start"], run_params["end"] = run_params["rs0"], run_params["re0"]
            time_where = ai.PERIOD_WHERE
        else:
            time_where = " OR ".join(clauses)
        _add(out, (await session.execute(text(ai.sums_sql(level, scoped=scope is not None, time_where=time_where)),
                                         run_params)).mappings())
    return dict(sorted(out.items()))


def local_today(now: datetime, tz: str) -> date:
    from zoneinfo import ZoneInfo

    return now.astimezone(ZoneInfo(tz)).date()
