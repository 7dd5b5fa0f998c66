"""A history of incidents for the province profile (issue 16 item 6): days of incidents with their work orders,
events, callbacks and overdue deadlines, generated inside PostgreSQL one day per transaction.

Set-based (`INSERT … SELECT … FROM generate_series`), not COPY from the client: the rows are random anyway, so
nothing needs to cross the wire, and the server writes them at its own speed with every index and constraint in
place (a year at the province's 56,000 a day = 20 million incidents: `make bench`). Reproducible: `setseed`.

Regions: the loaded province if there is one (bench/setup.py), else a synthetic tree with the scale's counts of
districts, streets, communities and grids (squares; micro-grids are left out — incidents sit in grids, which is
the deepest level any ranking reads)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from datetime import time as dtime
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from bench.scale import Scale

CATEGORIES = (("road", "道路破损"), ("water", "供水"), ("noise", "噪声扰民"), ("sanitation", "环境卫生"),
              ("dispute", "矛盾纠纷"), ("facility", "公共设施"))
DEPARTMENTS = ("urban_management", "water", "power", "police", "civil_affairs", "housing", "environment",
               "transport")
TZ = "Asia/Shanghai"

def _synthetic_regions(conn: psycopg.Connection, counts: tuple[int, ...], log: Callable[[str], None]) -> None:
    """A district → street → community → grid tree with about the given counts (children split evenly), each a
    small square; codes like the generator's (32 + a block per level)."""
    t0 = time.perf_counter()
    names = ("district", "street", "community", "grid")
    digits = (4, 3, 3, 3)
    conn.execute("""INSERT INTO regions (code, name, level, depth, parent_id, path, geom, path_names, path_levels)
        SELECT '32' || lpad(n::text, 4, '0'), '第' || n || '区', 'district', 0, NULL,
          ARRAY['32' || lpad(n::text, 4, '0')],
          ST_Multi(ST_MakeEnvelope(118 + n * 0.1, 32, 118.09 + n * 0.1, 32.09, 4326)),
          ARRAY['第' || n || '区'], ARRAY['district']
        FROM generate_series(1, %s) n""", (counts[0],))
    for depth in (1, 2, 3):
        per = max(1, round(counts[depth] / counts[depth - 1]))
        conn.execute(f"""INSERT INTO regions (code, name, level, depth, parent_id, path, geom, path_names, path_levels)
            SELECT p.code || lpad(k::text, {digits[depth]}, '0'), '{names[depth]}' || k, '{names[depth]}', {depth},
              p.id, p.path || (p.code || lpad(k::text, {digits[depth]}, '0'))::varchar,
              p.geom, p.path_names || ('{names[depth]}' || k)::varchar, p.path_levels || '{names[depth]}'::varchar
            FROM regions p, generate_series(1, %s) k WHERE p.depth = {depth - 1}""", (per,))
    conn.execute("ANALYZE regions")
    n = conn.execute("SELECT count(*) FROM regions").fetchone()[0]  # type: ignore[index]
    log(f"  synthetic regions: {n:,d} in {time.perf_counter() - t0:.1f} s")


def _reference(conn: psycopg.Connection) -> None:
    for code, name in CATEGORIES:
        conn.execute("INSERT INTO categories (code, name_zh, name_en, \"group\", default_priority, item_type) "
                     "VALUES (%s, %s, %s, 'city', 3, 'promise') ON CONFLICT DO NOTHING", (code, name, code))


_DAY = """
WITH g AS (SELECT code, path, row_number() OVER (ORDER BY code) AS k FROM regions WHERE depth = %(depth)s),
n AS (SELECT count(*) AS c FROM g),
pick AS (
  -- skewed: a third of the incidents fall on a tenth of the grids (busy places)
  SELECT 1 + floor(CASE WHEN random() < 0.33 THEN random() * 0.1 ELSE random() END * n.c)::int AS k,
    (%(cats)s::varchar[])[1 + floor(random() * %(ncat)s)::int] AS category_code,
    %(day_start)s::timestamptz + random() * interval '1 day' AS created, random() AS r1, random() AS r2
  FROM generate_series(1, %(per_day)s) s, n
),
new AS (SELECT gen_random_uuid() AS public_id, pick.category_code, g.code, g.path, pick.created, pick.r1, pick.r2
        FROM pick JOIN g ON g.k = pick.k)
INSERT INTO incidents (public_id, category_code, description, priority, item_type, status, channel, lon, lat, geom,
  region_code, region_path, created_at, updated_at, dispatched_at, respond_due_at, resolve_due_at, resolved_at,
  closed_at)
SELECT public_id, category_code, '历史', 3, 'promise',
  CASE WHEN r1 < 0.75 THEN 'closed' WHEN r1 < 0.85 THEN 'resolved' WHEN r1 < 0.97 THEN 'in_progress'
       ELSE 'located' END,
  CASE WHEN r2 < 0.6 THEN 'hotline' WHEN r2 < 0.85 THEN 'app' ELSE 'patrol' END, 119.4, 32.9,
  ST_SetSRID(ST_MakePoint(119.4, 32.9), 4326), code, path, created, created, created + interval '5 minutes',
  created + interval '1 day', created + interval '5 days',
  CASE WHEN r1 < 0.85 THEN created + (r2 * 7) * interval '1 day' END,
  CASE WHEN r1 < 0.75 THEN created + (r2 * 7 + 1) * interval '1 day' END
FROM new
"""

_DEPENDENTS = (
    # one department order each, a second one for a tenth (联办件)
    """INSERT INTO orders (incident_id, assignee_kind, department_code, role, status, created_at, updated_at,
         ack_due_at, due_at, accepted_at, done_at)
       SELECT i.id, 'department', (ARRAY[%(depts)s])[1 + (i.id + k) %% %(ndept)s], 'lead',
         CASE WHEN i.resolved_at IS NOT NULL THEN 'done' WHEN i.id %% 13 = 0 THEN 'returned' ELSE 'signed_for' END,
         i.created_at, i.created_at, i.created_at + interval '2 hours', i.resolve_due_at,
         CASE WHEN i.id %% 17 <> 0 THEN i.created_at + (i.id %% 5) * interval '40 minutes' END, i.resolved_at
       FROM incidents i, generate_series(0, 1) k WHERE i.id > %(after)s AND (k = 0 OR i.id %% 10 = 0)""",
    # the log: created and (if so) resolved for every incident; reworks, reopenings, supervisions for some
    """INSERT INTO events (kind, incident_id, actor, region_path, created_at)
       SELECT 'incident.created', i.id, 'bench', i.region_path, i.created_at FROM incidents i WHERE i.id > %(after)s
       UNION ALL SELECT 'incident.resolved', i.id, 'bench', i.region_path, i.resolved_at FROM incidents i
         WHERE i.id > %(after)s AND i.resolved_at IS NOT NULL
       UNION ALL SELECT 'incident.rework', i.id, 'bench', i.region_path, i.created_at + interval '1 day'
         FROM incidents i WHERE i.id > %(after)s AND i.id %% 19 = 0
       UNION ALL SELECT 'incident.reopened', i.id, 'bench', i.region_path, i.created_at + interval '2 days'
         FROM incidents i WHERE i.id > %(after)s AND i.id %% 41 = 0
       UNION ALL SELECT 'supervision.raised', i.id, 'bench', i.region_path, i.created_at + interval '3 days'
         FROM incidents i WHERE i.id > %(after)s AND i.id %% 23 = 0""",
    """INSERT INTO events (kind, incident_id, order_id, actor, region_path, created_at)
       SELECT 'order.rework', o.incident_id, o.id, 'bench', '{}', o.created_at + interval '1 day'
       FROM orders o WHERE o.incident_id > %(after)s AND o.id %% 29 = 0""",
    """INSERT INTO callbacks (incident_id, rating, via, created_at)
       SELECT i.id, CASE WHEN i.id %% 20 = 0 THEN 'dissatisfied' WHEN i.id %% 3 = 0 THEN 'basically_satisfied'
         ELSE 'satisfied' END, 'phone', i.resolved_at + interval '1 day'
       FROM incidents i WHERE i.id > %(after)s AND i.resolved_at IS NOT NULL AND i.id %% 2 = 0""",
    """INSERT INTO deadlines (key, incident_id, kind, due_at, overdue_at)
       SELECT 'h:' || i.id, i.id, 'resolve', i.resolve_due_at, i.resolve_due_at FROM incidents i
       WHERE i.id > %(after)s AND i.id %% 11 = 0""",
)


def generate(url: str, *, start: date, days: int, per_day: int, scale: Scale,
             log: Callable[[str], None] = print) -> dict[str, Any]:
    """Generate `days` days from `start`, `per_day` incidents each; returns counts and seconds."""
    t0 = time.perf_counter()
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        if conn.execute("SELECT count(*) FROM regions").fetchone()[0] == 0:  # type: ignore[index]
            _synthetic_regions(conn, scale.counts[:4], log)
        _reference(conn)
        conn.execute("SELECT setseed(0.16)")
        params = {"cats": [c for c, _ in CATEGORIES], "ncat": len(CATEGORIES), "depts": list(DEPARTMENTS),
                  "ndept": len(DEPARTMENTS), "per_day": per_day, "depth": 3}
        for n in range(days):
            day = start + timedelta(days=n)
            with conn.transaction():
                after = conn.execute("SELECT coalesce(max(id), 0) FROM incidents").fetchone()[0]  # type: ignore[index]
                conn.execute(_DAY, {**params, "day_start": datetime.combine(day, dtime(), ZoneInfo(TZ))})
                for sql in _DEPENDENTS:
                    conn.execute(sql.replace("ARRAY[%(depts)s]", "%(depts)s::varchar[]"), {**params, "after": after})
            if n % 5 == 0:  # fresh statistics, so `id > after` stays an index range as the tables grow
                conn.execute("ANALYZE incidents; ANALYZE orders")
            if n % 10 == 9 or n == days - 1:
                log(f"  generated {n + 1}/{days} days ({(n + 1) * per_day:,d} incidents, "
                    f"{time.perf_counter() - t0:.0f} s)")
        conn.execute("ANALYZE incidents; ANALYZE orders; ANALYZE events; ANALYZE callbacks; ANALYZE deadlines")
        counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # type: ignore[index]
                  for t in ("incidents", "orders", "events", "callbacks", "deadlines", "regions")}
    secs = time.perf_counter() - t0
    return {"days": days, "per_day": per_day, "seconds": round(secs, 1),
            "incidents_per_s": round(days * per_day / secs), **counts}
