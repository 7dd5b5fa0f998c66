"""A worker's day replayed (巡查轨迹回放): every position report of the local day in time order, and what the day
amounts to — time on duty and distance patrolled (the same rule as the assessment's 在岗时长 and 巡查里程:
consecutive reports at most TRACK_GAP_S apart), the grids the track passed through, and the incidents the worker
reported on the way (patrol channel)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from command.core.errors import NotFound
from command.core.scoping import unrestricted
from command.core.security import Principal
from command.reports.assessment_indices import TRACK_GAP_S

MAX_POINTS = 20_000  # a day at one report every 5 s; more are thinned evenly


async def replay(session: AsyncSession, *, principal: Principal, worker_id: int, day: date,
                 tz: str) -> dict[str, Any]:
    worker = (await session.execute(text(
        "SELECT w.id, w.name, w.user_id, w.grid_codes, COALESCE(array_agg(DISTINCT p) FILTER (WHERE p IS NOT NULL), "
        "'{}') AS paths FROM workers w LEFT JOIN regions r ON r.code = ANY(w.grid_codes) "
        "LEFT JOIN LATERAL unnest(r.path) p ON true WHERE w.id = :w GROUP BY w.id"),
        {"w": worker_id})).mappings().first()
    if worker is None or not (unrestricted(principal) or principal.region_code in worker["paths"]):
        raise NotFound(f"worker {worker_id} not found")  # out of scope reads as absent
    z = ZoneInfo(tz)
    start, end = datetime.combine(day, time(), z), datetime.combine(day + timedelta(days=1), time(), z)
    params = {"w": worker_id, "start": start, "end": end, "gap": TRACK_GAP_S}
    total = int(await session.scalar(text(
        "SELECT count(*) FROM worker_positions WHERE worker_id = :w AND ts >= :start AND ts < :end"), params) or 0)
    step = max(1, -(-total // MAX_POINTS))
    points = (await session.execute(text(
        "SELECT extract(epoch FROM ts)::float8 AS t, lon, lat FROM (SELECT ts, lon, lat, row_number() OVER "
        "(ORDER BY ts) AS n FROM worker_positions WHERE worker_id = :w AND ts >= :start AND ts < :end) s "
        "WHERE (n - 1) % :step = 0 ORDER BY ts"), params | {"step": step})).all()
    summary = (await session.execute(text("""
        SELECT COALESCE(sum(extract(epoch FROM ts - prev_ts))
                          FILTER (WHERE ts - prev_ts <= make_interval(secs => :gap)), 0) AS duty_s,
               COALESCE(sum(ST_Distance(ST_MakePoint(lon, lat)::geography, ST_MakePoint(prev_lon, prev_lat)::geography))
                 FILTER (WHERE ts - prev_ts <= make_interval(secs => :gap)), 0) AS distance_m,
               min(ts) AS first_at, max(ts) AS last_at
        FROM (SELECT ts, lon, lat, lag(ts) OVER w AS prev_ts, lag(lon) OVER w AS prev_lon, lag(lat) OVER w AS prev_lat
              FROM worker_positions WHERE worker_id = :w AND ts >= :start AND ts < :end WINDOW w AS (ORDER BY ts)) t
    """), params)).mappings().one()
    grids = (await session.execute(text("""
        SELECT r.code, r.name FROM regions r
        WHERE r.level = 'grid' AND EXISTS (
          SELECT 1 FROM worker_positions p WHERE p.worker_id = :w AND p.ts >= :start AND p.ts < :end
            AND ST_Intersects(r.geom, ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326)))
        ORDER BY r.code"""), params)).mappings().all()
    found = (await session.execute(text(
        "SELECT id, category_code, created_at, lon, lat FROM incidents WHERE created_by = :u AND channel = 'patrol' "
        "AND created_at >= :start AND created_at < :end ORDER BY created_at"),
        {"u": worker["user_id"], "start": start, "end": end})).mappings().all()
    return {
        "worker": {"id": worker["id"], "name": worker["name"], "grid_codes": list(worker["grid_codes"] or [])},
        "date": day.isoformat(), "points_total": total, "step": step,
        "points": [[round(t, 3), lon, lat] for t, lon, lat in points],
        "summary": {"duty_s": round(float(summary["duty_s"]), 1), "distance_m": round(float(summary["distance_m"]), 1),
                    "first_at": summary["first_at"].isoformat() if summary["first_at"] else None,
                    "last_at": summary["last_at"].isoformat() if summary["last_at"] else None,
                    "grids": [dict(g) for g in grids]},
        "incidents_found": [{"id": f["id"], "category_code": f["category_code"],
                             "created_at": f["created_at"].isoformat(), "lon": f["lon"], "lat": f["lat"]}
                            for f in found],
    }
