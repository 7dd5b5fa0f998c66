"""Hotspots and repeat complaints (热点、难点、堵点) of a period: incidents per grid (the heat map), repeat clusters
(the same place within a distance and the same category at least k times within N days) and repeat callers (the
same phone at least k times within N days), each listed with its incidents; a cluster becomes one supervised case.

Clusters: PostGIS `ST_ClusterDBSCAN` with minpoints 1 per category (single linkage: a chain of reports each within
`distance_m` of the next is one place), on Web Mercator with the distance scaled by 1/cos(latitude) of the
period's mean latitude, so `distance_m` is metres on the ground (Mercator stretches by exactly that factor; over a
city's span the error is well under 1%). A group is a repeat when some N-day window holds k or more of it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from command.core.errors import Conflict, InvalidInput
from command.core.lifecycle import INCIDENT_TERMINAL
from command.core.models import Event
from command.core.scoping import unrestricted
from command.core.security import Principal
from command.deadlines.supervision import supervise

GRID_INDEX = 4  # region_path[4]: the grid (district, street, community, grid)
MAX_CLUSTER_IDS = 200
MAX_GROUPS = 200  # clusters (and callers) listed, the biggest first: a leader reads the top of the list


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime
    scope: str | None
    distance_m: float = 100.0
    min_count: int = 3
    days: int = 30

    def check(self) -> None:
        if not 1 <= self.distance_m <= 5000:
            raise InvalidInput("distance_m must be 1 to 5000", details=[{"field": "distance_m"}])
        if not 2 <= self.min_count <= 1000:
            raise InvalidInput("min_count must be 2 to 1000", details=[{"field": "min_count"}])
        if not 1 <= self.days <= 366:
            raise InvalidInput("days must be 1 to 366", details=[{"field": "days"}])


def _window(w: Window) -> timedelta:
    """N days as a frame: [t, t + N days), the end excluded (a frame's end is included)."""
    return timedelta(days=w.days) - timedelta(microseconds=1)


def _where(w: Window) -> tuple[str, dict[str, Any]]:
    sql = "i.created_at >= :start AND i.created_at < :end AND i.status <> 'merged'"
    params: dict[str, Any] = {"start": w.start, "end": w.end}
    if w.scope:
        sql += " AND i.region_path @> ARRAY[CAST(:scope AS varchar)]"
        params["scope"] = w.scope
    return sql, params


async def grid_heat(session: AsyncSession, w: Window) -> list[dict[str, Any]]:
    """Incidents per grid in the period, with a point inside the grid, most first."""
    where, params = _where(w)
    rows = (await session.execute(text(f"""
        SELECT g.code, g.name, g.n, ST_X(p) AS lon, ST_Y(p) AS lat
        FROM (SELECT i.region_path[{GRID_INDEX}] AS code, r.name, count(*) AS n, r.geom
              FROM incidents i JOIN regions r ON r.code = i.region_path[{GRID_INDEX}]
              WHERE {where} GROUP BY 1, 2, r.geom) g
        CROSS JOIN LATERAL ST_PointOnSurface(g.geom) p
        ORDER BY g.n DESC, g.code"""), params)).mappings()
    return [{"code": r["code"], "name": r["name"], "count": int(r["n"]), "lon": float(r["lon"]),
             "lat": float(r["lat"])} for r in rows]


# Within a group (a cluster or a phone): the most incidents in any N-day window starting at one of them — a
# window frame over the group in time order (one sort, not a count per pair: a big hotspot stays linear).
_WINDOWED = """
, windowed AS (
  SELECT grp, id, count(*) OVER (PARTITION BY grp ORDER BY created_at
                                 RANGE BETWEEN CURRENT ROW AND CAST(:win AS interval) FOLLOWING) AS in_window
  FROM member
)
SELECT m.grp, max(w.in_window) AS best, count(DISTINCT m.id) AS n,
  (array_agg(DISTINCT m.id ORDER BY m.id))[1:{cap}] AS ids, min(m.created_at) AS first_at, max(m.created_at) AS last_at,
  {extra}
FROM member m JOIN windowed w ON w.grp = m.grp AND w.id = m.id
GROUP BY m.grp HAVING max(w.in_window) >= :k ORDER BY max(w.in_window) DESC, n DESC, m.grp LIMIT {limit}
"""


async def repeat_clusters(session: AsyncSession, w: Window) -> list[dict[str, Any]]:
    """Same category, same place (within distance_m), at least min_count within `days` days."""
    w.check()
    where, params = _where(w)
    params |= {"win": _window(w), "k": w.min_count, "d": w.distance_m}
    sql = f"""
WITH base AS (SELECT i.id, i.category_code, i.created_at, i.geom, i.lon, i.lat FROM incidents i WHERE {where}),
eps AS (SELECT :d / cos(radians(COALESCE(avg(lat), 0))) AS e FROM base),
member AS (
  SELECT b.category_code || ':' || ST_ClusterDBSCAN(ST_Transform(b.geom, 3857), eps => (SELECT e FROM eps),
           minpoints => 1) OVER (PARTITION BY b.category_code) AS grp,
         b.id, b.category_code, b.created_at, b.lon, b.lat
  FROM base b
){_WINDOWED.format(cap=MAX_CLUSTER_IDS, limit=MAX_GROUPS,
                   extra="min(m.category_code) AS category, avg(m.lon) AS lon, avg(m.lat) AS lat")}
"""
    rows = (await session.execute(text(sql), params)).mappings()
    return [{"key": r["grp"], "category": r["category"], "count": int(r["n"]), "in_window": int(r["best"]),
             "lon": float(r["lon"]), "lat": float(r["lat"]), "first_at": r["first_at"].isoformat(),
             "last_at": r["last_at"].isoformat(), "incident_ids": list(r["ids"])} for r in rows]


def mask_phone(phone: str) -> str:
    """138****5678: enough to tell callers apart on a list (PIPL), never the number."""
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"


async def repeat_callers(session: AsyncSession, w: Window) -> list[dict[str, Any]]:
    """The same reporter phone (digits only, a +86/86 prefix dropped) at least min_count within `days` days.
    Petitions are left out: their petitioners are for petition staff only (command.orders.petitions)."""
    w.check()
    where, params = _where(w)
    params |= {"win": _window(w), "k": w.min_count}
    sql = f"""
WITH member AS (
  SELECT regexp_replace(regexp_replace(i.reporter_phone, '\\D', '', 'g'), '^86(1\\d{{10}})$', '\\1') AS grp,
         i.id, i.created_at
  FROM incidents i WHERE {where} AND i.reporter_phone IS NOT NULL AND i.channel <> 'petition'
){_WINDOWED.format(cap=MAX_CLUSTER_IDS, limit=MAX_GROUPS, extra="count(*) AS rows_n")}
"""
    rows = (await session.execute(text(sql), params)).mappings()
    return [{"phone": mask_phone(str(r["grp"])), "count": int(r["n"]), "in_window": int(r["best"]),
             "first_at": r["first_at"].isoformat(), "last_at": r["last_at"].isoformat(),
             "incident_ids": list(r["ids"])} for r in rows if r["grp"]]


async def supervise_cluster(session: AsyncSession, *, principal: Principal, incident_ids: list[int],
                            reason: str) -> Event:
    """One supervised case for a repeat cluster: 督办 on its latest open incident, the reason naming them all."""
    ids = sorted(set(incident_ids))
    if not 2 <= len(ids) <= MAX_CLUSTER_IDS:
        raise InvalidInput(f"a cluster has 2 to {MAX_CLUSTER_IDS} incidents", details=[{"field": "incident_ids"}])
    rows = (await session.execute(text("SELECT id, status, region_path FROM incidents WHERE id = ANY(:ids) "
                                       "ORDER BY id"), {"ids": ids})).all()
    seen = [r for r in rows if unrestricted(principal) or principal.region_code in (r[2] or [])]
    if len(seen) != len(ids):  # unknown and out-of-scope alike: nothing says which
        raise InvalidInput("unknown incident in the cluster", details=[{"field": "incident_ids"}])
    open_ids = [r[0] for r in rows if r[1] not in {str(s) for s in INCIDENT_TERMINAL}]
    if not open_ids:
        raise Conflict("every incident of the cluster is closed: nothing to supervise")
    lead = open_ids[-1]
    text_ids = " ".join(f"#{i}" for i in ids)
    return await supervise(session, incident_id=lead, principal=principal,
                           reason=f"{reason.strip()} · 重复投诉 {len(ids)} 件 repeat complaints: {text_ids}")
