"""The assessment indices (考核指标), each defined once: a numerator and a denominator column of one fact table.

The facts are SQL (`facts_sql`): one row per unit and incident (per work order for departments and workers), with
integer columns whose per-unit sums are every index's numerator and denominator. The columns follow the
statistics' definitions (command/reports/stats.py: the same population — incidents received in the period, merged
duplicates excluded — and the same on-time, rework and rating rules); tests/reports/test_assessment.py checks that
the sums equal `stats.compute`'s counts. The incidents behind a figure are the rows whose column is > 0.

Index kinds: `rate` (num / den, 0..1), `quantity` (a total over the period, scored against a per-day target)."""

from __future__ import annotations

from dataclasses import dataclass

from command.core.errors import InvalidInput
from command.reports import incident_aggregates as agg
from geo.models import LEVEL_DEPTH, Level

REGION_LEVELS = ("district", "street", "community", "grid")
LEVELS = (*REGION_LEVELS, "department", "worker")
ALL = frozenset(LEVELS)
WORKER_ONLY = frozenset({"worker"})


@dataclass(frozen=True)
class Index:
    code: str
    name_zh: str
    name_en: str
    kind: str  # rate | quantity
    num: str  # a fact column
    den: str | None  # a fact column (None for a quantity)
    direction: str  # the default: up = higher is better
    levels: frozenset[str] = ALL
    scale: float = 1.0  # a quantity's display unit (seconds → hours, metres → km)
    note: str = ""


INDICES: tuple[Index, ...] = (
    Index("sign_rate", "签收率", "Signed for", "rate", "signed", "sign_due", "up",
          note="work orders signed for / work orders issued (withdrawn ones excluded)"),
    Index("on_time_sign_rate", "按期签收率", "Signed for on time", "rate", "signed_on_time", "sign_due", "up",
          note="signed for by the sign-for limit / issued (stats.py's sign_rate)"),
    Index("on_time_disposal_rate", "按期处置率", "Handled on time", "rate", "resolved_on_time", "received", "up",
          note="resolved by the (extended) limit, never reopened or sent back / received (stats.py on_time_rate)"),
    Index("disposal_rate", "处置率", "Handled", "rate", "resolved", "received", "up",
          note="resolved / received (stats.py resolution_rate)"),
    Index("rework_rate", "返工率", "Rework", "rate", "reworked", "disposed", "down",
          note="sent back for rework at least once / handled at least once (resolved or reworked)"),
    Index("overdue_rate", "超期率", "Overdue", "rate", "overdue", "received", "down",
          note="any deadline went overdue / received"),
    Index("close_rate", "结案率", "Closed", "rate", "closed", "received", "up",
          note="closed (结案) / received"),
    Index("satisfaction_rate", "满意率", "Satisfaction", "rate", "satisfied", "rated", "up",
          note="满意 + 基本满意 (latest callback) / called back"),
    Index("callback_rate", "回访率", "Called back", "rate", "rated", "callback_due", "up",
          note="called back / resolved or called back"),
    Index("supervision_count", "督办次数", "Supervisions", "rate", "supervisions", "received", "down",
          note="督办 raised (scheduled or manual) per received case; the count is the numerator"),
    Index("duty_hours", "在岗时长", "Hours on duty", "quantity", "duty_s", None, "up", WORKER_ONLY, 1 / 3600,
          note="sum of gaps ≤ 5 min between consecutive position reports, in hours"),
    Index("patrol_km", "巡查里程", "Patrol distance", "quantity", "patrol_m", None, "up", WORKER_ONLY, 1 / 1000,
          note="geodesic distance between consecutive reports ≤ 5 min apart, in km"),
    Index("self_found", "自行发现", "Self-found cases", "quantity", "self_found", None, "up", WORKER_ONLY,
          note="patrol-channel incidents the worker reported"),
)
BY_CODE = {i.code: i for i in INDICES}
COLUMNS = ("received", "sign_due", "signed", "signed_on_time", "resolved", "resolved_on_time", "reworked",
           "disposed", "overdue", "closed", "rated", "satisfied", "callback_due", "supervisions", "self_found",
           "duty_s", "patrol_m")
# Columns that are quantities of something other than incidents: no incident lies behind them.
NOT_INCIDENTS = frozenset({"duty_s", "patrol_m"})

_INCIDENT_FACTS = f"""
SELECT {{unit}} AS unit, i.id AS incident_id, 1 AS received,
  COALESCE(oa.sign_due, 0) AS sign_due, COALESCE(oa.signed, 0) AS signed,
  COALESCE(oa.signed_on_time, 0) AS signed_on_time,
  (i.resolved_at IS NOT NULL)::int AS resolved,
  (i.resolved_at IS NOT NULL AND (i.resolve_due_at IS NULL OR i.resolved_at <= i.resolve_due_at)
   AND NOT COALESCE(ea.reopened, false) AND NOT COALESCE(oa.sent_back, false))::int AS resolved_on_time,
  COALESCE(ea.reworked, false)::int AS reworked,
  (i.resolved_at IS NOT NULL OR COALESCE(ea.reworked, false))::int AS disposed,
  (da.incident_id IS NOT NULL)::int AS overdue, (i.closed_at IS NOT NULL OR i.status = 'closed')::int AS closed,
  (cb.rating IS NOT NULL)::int AS rated, COALESCE(cb.rating IN {agg.SATISFIED}, false)::int AS satisfied,
  (i.resolved_at IS NOT NULL OR cb.rating IS NOT NULL)::int AS callback_due,
  COALESCE(ea.supervisions, 0) AS supervisions, 0 AS self_found, 0 AS duty_s, 0::float8 AS patrol_m,
  i.region_path AS rpath, i.category_code AS category
FROM incidents i{agg.ORDERS}{agg.EVENTS}{agg.OVERDUE}{agg.RATING}
WHERE {{where}}
"""

# Per work order (departments, workers): stats.py's department rules — resolved = reported done, on time = done
# by its own (possibly extended) deadline and never reworked; a rating counts unless the order was sent back.
_ORDER_FACTS = f"""
SELECT {{unit}} AS unit, i.id AS incident_id, 1 AS received, 1 AS sign_due,
  (o.accepted_at IS NOT NULL)::int AS signed,
  (o.accepted_at IS NOT NULL AND (o.ack_due_at IS NULL OR o.accepted_at <= o.ack_due_at))::int AS signed_on_time,
  (o.status = 'done')::int AS resolved,
  (o.status = 'done' AND (o.due_at IS NULL OR o.done_at <= o.due_at) AND orw.order_id IS NULL)::int
    AS resolved_on_time,
  (orw.order_id IS NOT NULL)::int AS reworked, (o.status = 'done' OR orw.order_id IS NOT NULL)::int AS disposed,
  (od.order_id IS NOT NULL)::int AS overdue, (i.closed_at IS NOT NULL OR i.status = 'closed')::int AS closed,
  (cb.rating IS NOT NULL AND o.status <> 'returned')::int AS rated,
  COALESCE(cb.rating IN {agg.SATISFIED} AND o.status <> 'returned', false)::int AS satisfied,
  (o.status = 'done' OR (cb.rating IS NOT NULL AND o.status <> 'returned'))::int AS callback_due,
  COALESCE(ea.supervisions, 0) AS supervisions, 0 AS self_found, 0 AS duty_s, 0::float8 AS patrol_m,
  i.region_path AS rpath, i.category_code AS category
FROM orders o JOIN incidents i ON i.id = o.incident_id
{agg.ORDER_REWORK}
LEFT JOIN (SELECT DISTINCT d.order_id FROM deadlines d WHERE d.overdue_at IS NOT NULL AND d.order_id IS NOT NULL
    AND d.incident_id IN {agg.IN_WHERE}) od ON od.order_id = o.id{agg.EVENTS}{agg.RATING}
WHERE o.assignee_kind = :kind AND o.status <> 'cancelled' AND {{where}}{{extra}}
"""

# A worker's own patrol reports (self-found cases) and position track (time on duty, distance): only the
# columns they feed are non-zero.
_SELF_FOUND_FACTS = """
SELECT w.id::text AS unit, i.id AS incident_id, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0::float8,
  i.region_path, i.category_code
FROM incidents i JOIN workers w ON w.user_id = i.created_by
WHERE i.channel = 'patrol' AND {where}
"""
TRACK_GAP_S = 300  # consecutive reports further apart than this: off duty in between (not time, not distance)
_TRACK_FACTS = """
SELECT t.worker_id::text AS unit, NULL::bigint, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  COALESCE(sum(extract(epoch FROM t.ts - t.prev_ts))
           FILTER (WHERE t.ts - t.prev_ts <= make_interval(secs => {gap})), 0),
  COALESCE(sum(ST_Distance(ST_MakePoint(t.lon, t.lat)::geography, ST_MakePoint(t.prev_lon, t.prev_lat)::geography))
    FILTER (WHERE t.ts - t.prev_ts <= make_interval(secs => {gap})), 0),
  NULL::varchar[], NULL::varchar
FROM (SELECT p.worker_id, p.ts, p.lon, p.lat, lag(p.ts) OVER w AS prev_ts, lag(p.lon) OVER w AS prev_lon,
        lag(p.lat) OVER w AS prev_lat
      FROM worker_positions p WHERE p.ts >= :start AND p.ts < :end {track_scope}
      WINDOW w AS (PARTITION BY p.worker_id ORDER BY p.ts)) t
GROUP BY t.worker_id
"""
_TRACK_SCOPE = ("AND EXISTS (SELECT 1 FROM workers w JOIN regions r ON r.code = ANY(w.grid_codes) "
                "WHERE w.id = p.worker_id AND r.path @> ARRAY[CAST(:scope AS varchar)])")


def check_level(level: str) -> None:
    if level not in LEVELS:
        raise InvalidInput(f"level must be one of {', '.join(LEVELS)}", details=[{"field": "level"}])


PERIOD_WHERE = "i.created_at >= :start AND i.created_at < :end"


def incident_facts_sql(where: str) -> str:
    """One fact row per incident matching `where` (merged duplicates excluded), every region depth: `rpath` and
    `category` say where it belongs (command/reports/daily_facts.py groups them by day)."""
    return _INCIDENT_FACTS.format(unit="NULL::varchar", where=f"({where}) AND i.status <> 'merged'")


def department_facts_sql(where: str) -> str:
    """One fact row per department work order of the incidents matching `where`."""
    return _ORDER_FACTS.format(unit="o.department_code", where=f"({where}) AND i.status <> 'merged'", extra="")


def facts_sql(level: str, *, scoped: bool, one_unit: bool = False, time_where: str = PERIOD_WHERE) -> str:
    """The fact rows of `level` for incidents received in [:start, :end) (or matching `time_where`; within
    :scope when `scoped`; of the unit :unit only when `one_unit`, pushed down to the tables' own columns)."""
    check_level(level)
    where = f"({time_where}) AND i.status <> 'merged'"
    if scoped:
        where += " AND i.region_path @> ARRAY[CAST(:scope AS varchar)]"
    if level in REGION_LEVELS:
        unit = f"i.region_path[{LEVEL_DEPTH[Level(level)] + 1}]"
        if one_unit:
            where += f" AND {unit} = :unit"
        return f"SELECT * FROM ({_INCIDENT_FACTS.format(unit=unit, where=where)}) f WHERE unit IS NOT NULL"
    if level == "department":
        return _ORDER_FACTS.format(unit="o.department_code", where=where,
                                   extra=" AND o.department_code = :unit" if one_unit else "")
    only = " AND o.worker_id::text = :unit" if one_unit else ""
    parts = [_ORDER_FACTS.format(unit="o.worker_id::text", where=where, extra=" AND o.worker_id IS NOT NULL" + only),
             _SELF_FOUND_FACTS.format(where=where + (" AND w.id::text = :unit" if one_unit else "")),
             _TRACK_FACTS.format(track_scope=(_TRACK_SCOPE if scoped else "")
                                 + (" AND p.worker_id::text = :unit" if one_unit else ""), gap=TRACK_GAP_S)]
    return "\nUNION ALL\n".join(f"({p})" for p in parts)


def sums_sql(level: str, *, scoped: bool, one_unit: bool = False, time_where: str = PERIOD_WHERE) -> str:
    """Per unit: every column's sum (the numerators and denominators of all indices)."""
    sums = ", ".join(f"sum({c}) AS {c}" for c in COLUMNS)
    return (f"SELECT unit, {sums} FROM ({facts_sql(level, scoped=scoped, one_unit=one_unit, time_where=time_where)}) f "
            "GROUP BY unit ORDER BY unit")


def unit_rows_sql(level: str, *, scoped: bool) -> str:
    """The fact rows of one unit (:unit) that are incidents, lowest incident first: a row is behind a column
    where that column is > 0."""
    cols = ", ".join(c for c in COLUMNS if c not in NOT_INCIDENTS)
    return (f"SELECT incident_id, {cols} FROM ({facts_sql(level, scoped=scoped, one_unit=True)}) f "
            "WHERE unit = :unit AND incident_id IS NOT NULL ORDER BY incident_id")
