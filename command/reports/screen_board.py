"""What a wall display and an operator console read besides the incident API: the region they watch (and the
names of its regions), the incidents to put on the map, the deadlines to count down, today's figures and the
hourly trend. Read-only; everything is limited to the watched region, which must lie within the caller's."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from command.core.clock import local_midnight
from command.core.errors import Forbidden, InvalidInput
from command.core.lifecycle import ORDER_OFFERED, IncidentStatus
from command.core.models import Category, Deadline, Department, Incident, Order
from command.core.scoping import array_contains, unrestricted
from command.core.security import Principal
from command.core.summaries import incident_summary, iso
from command.reports import stats
from geo.models import Region, ResourcePoint

_I = IncidentStatus
TERMINAL = (_I.closed.value, _I.merged.value, _I.cancelled.value)
# An obligation behind a deadline is met once the incident got this far (cf. command.deadlines.scheduler): a resolved
# incident's "respond" deadline no longer counts down, even before the scheduler marks it met.
_RESPONDED = [str(s) for s in (_I.in_progress, _I.resolved, _I.verified, _I.callback_done, *TERMINAL)]
_RESOLVED = [str(s) for s in (_I.resolved, _I.verified, _I.callback_done, *TERMINAL)]
_OFFERED = [s.value for s in ORDER_OFFERED]
_FINISHED_ORDER = ["done", "declined", "returned", "timed_out", "cancelled"]
NAME_LEVELS = 2  # names of the watched region and two levels below it (district → street → community)


async def watched_region(session: AsyncSession, *, principal: Principal, region: str | None) -> Region | None:
    """The region a screen watches: `region` if given (it must lie within the caller's), else the caller's own,
    else (a caller without a region) the single top region, if there is only one. None: the whole tree."""
    if region is not None:
        return await region_within_scope(session, principal=principal, region=region)
    if principal.region_code:
        return await session.scalar(select(Region).where(Region.code == principal.region_code))
    tops = list(await session.scalars(select(Region).where(Region.parent_id.is_(None)).limit(2)))
    return tops[0] if len(tops) == 1 else None


async def region_within_scope(session: AsyncSession, *, principal: Principal, region: str) -> Region:
    """The region `region` names, which must lie within the caller's."""
    found = await session.scalar(select(Region).where(Region.code == region))
    if found is None:
        raise InvalidInput(f"unknown region {region!r}", details=[{"field": "region"}])
    if not unrestricted(principal) and principal.region_code not in (found.path or []):
        raise Forbidden(f"region {region!r} is not within your region")
    return found


RESOURCE_VIEWERS = frozenset({"admin", "supervisor", "operator"})


async def resources_region(session: AsyncSession, *, principal: Principal, region: str | None) -> Region | None:
    """Where `principal` may see emergency resource points (hydrants, shelters, AEDs…): operators, supervisors
    and admins, within their region (`region`, if given, inside it). The one rule for the wall's GeoJSON and the
    `resources` vector tiles; None: everywhere."""
    if principal.role not in RESOURCE_VIEWERS:
        raise Forbidden(f"role {principal.role!r} may not see emergency resources")
    return await watched_region(session, principal=principal, region=region)


def _scoped(stmt: Any, code: str | None) -> Any:
    return stmt if code is None else stmt.where(array_contains(Incident.region_path, code))


async def region_names(session: AsyncSession, *, watched: Region | None) -> dict[str, dict[str, str]]:
    """code → {name, level} for the watched region's ancestors, itself and NAME_LEVELS levels below."""
    if watched is None:
        stmt = select(Region.code, Region.name, Region.level).where(Region.depth <= NAME_LEVELS)
    else:
        stmt = select(Region.code, Region.name, Region.level).where(or_(
            Region.code.in_(watched.path),
            and_(array_contains(Region.path, watched.code), Region.depth <= watched.depth + NAME_LEVELS)))
    return {r.code: {"name": r.name, "level": r.level} for r in await session.execute(stmt)}


async def department_names(session: AsyncSession, *, watched: Region | None) -> dict[str, str]:
    """code → name of the departments serving the watched region: those of its ancestors, itself and below."""
    stmt = select(Department.code, Department.name)
    if watched is not None:
        below = select(Region.code).where(array_contains(Region.path, watched.code))
        stmt = stmt.where(or_(Department.region_code.in_(watched.path), Department.region_code.in_(below)))
    return {code: name for code, name in await session.execute(stmt)}


async def map_incidents(session: AsyncSession, *, watched: Region | None, now: datetime,
                        recent_s: int = 7200, limit: int = 2000) -> list[dict[str, Any]]:
    """Incidents the map shows: every one still open, and finished ones for `recent_s` after their last move."""
    stmt = select(Incident).where(or_(Incident.status.notin_(TERMINAL),
                                      Incident.updated_at >= now - timedelta(seconds=recent_s)))
    stmt = _scoped(stmt, watched.code if watched else None).order_by(Incident.id.desc()).limit(limit)
    return [incident_summary(i) | {"updated_at": iso(i.updated_at)} for i in await session.scalars(stmt)]


def _unmet() -> Any:
    """SQL: the deadline's obligation is still open (the scheduler may not have looked at it yet)."""
    return or_(
        (Deadline.kind == "sign_for") & Order.status.in_(_OFFERED),
        (Deadline.kind == "respond") & Incident.status.notin_(_RESPONDED),
        (Deadline.kind == "feedback") & Incident.status.notin_(_RESOLVED),
        (Deadline.kind == "resolve") & Deadline.order_id.is_(None) & Incident.status.notin_(_RESOLVED),
        (Deadline.kind == "resolve") & Deadline.order_id.is_not(None) & Order.status.notin_(_FINISHED_ORDER),
    )


async def open_deadlines(session: AsyncSession, *, watched: Region | None, now: datetime,
                         horizon_s: int = 4 * 3600, limit: int = 100) -> list[dict[str, Any]]:
    """Deadlines not yet met that are overdue, supervised (督办) or due within `horizon_s`: most supervised,
    then most overdue first."""
    stmt = (select(Deadline, Incident, Order.status.label("order_status"))
            .join(Incident, Incident.id == Deadline.incident_id)
            .outerjoin(Order, Order.id == Deadline.order_id)
            .where(Deadline.met_at.is_(None), Incident.status.notin_(TERMINAL), _unmet(),
                   or_(Deadline.due_at <= now + timedelta(seconds=horizon_s), Deadline.supervision_level > 0))
            .order_by(Deadline.supervision_level.desc(), Deadline.due_at, Deadline.id).limit(limit))
    rows = await session.execute(_scoped(stmt, watched.code if watched else None))
    return [{"deadline_id": d.id, "kind": d.kind, "order_id": d.order_id, "due_at": iso(d.due_at),
             "overdue": d.due_at <= now, "supervision_level": d.supervision_level, "incident": incident_summary(i)}
            for d, i, _ in rows]


_TREND = text("""
WITH hours AS (
  SELECT generate_series(date_trunc('hour', CAST(:start AS timestamptz) AT TIME ZONE :tz),
                         date_trunc('hour', CAST(:now AS timestamptz) AT TIME ZONE :tz), interval '1 hour') AS h
), scoped AS (
  SELECT i.created_at, i.resolved_at FROM incidents i
  WHERE (i.created_at >= :start OR i.resolved_at >= :start) AND i.status <> 'merged'
    AND (CAST(:scope AS varchar) IS NULL OR i.region_path @> ARRAY[CAST(:scope AS varchar)])
)
SELECT hours.h AS hour,
  (SELECT count(*) FROM scoped WHERE date_trunc('hour', created_at AT TIME ZONE :tz) = hours.h) AS received,
  (SELECT count(*) FROM scoped WHERE date_trunc('hour', resolved_at AT TIME ZONE :tz) = hours.h) AS resolved
FROM hours ORDER BY hours.h
""")


async def hourly_trend(session: AsyncSession, *, watched: Region | None, now: datetime, tz: str,
                       hours: int = 24) -> list[dict[str, Any]]:
    """Received and resolved per local hour, the last `hours` hours including the current one."""
    start = now - timedelta(hours=hours - 1)
    rows = await session.execute(_TREND, {"start": start, "now": now, "tz": tz,
                                          "scope": watched.code if watched else None})
    return [{"hour": r.hour.strftime("%Y-%m-%dT%H:00"), "received": r.received, "resolved": r.resolved}
            for r in rows]


async def today_figures(session: AsyncSession, *, principal: Principal, watched: Region | None, now: datetime,
                        tz: str) -> dict[str, Any]:
    """Today's (local) figures of command.reports.stats: the total, per category (with names) and per region one level
    below the watched one (with names), best resolution rate first."""
    start = local_midnight(now, tz)
    code = watched.code if watched else None

    async def compute(group: str) -> list[stats.Figures]:
        q = stats.Query(start=start, end=now + timedelta(seconds=1), group=group, region_code=code, tz=tz)
        return await stats.compute(session, principal=principal, q=q)

    by_category = await compute("category")
    by_region = await compute("region")
    cats = {c.code: c for c in await session.scalars(select(Category))}
    region_keys = [r.key for r in by_region if r.key]
    regions = {r.code: r for r in await session.scalars(select(Region).where(Region.code.in_(region_keys)))}
    region_rows = [r.as_dict() | {"name": regions[r.key].name if r.key in regions else r.key,
                                  "level": regions[r.key].level if r.key in regions else None}
                   for r in by_region]
    region_rows.sort(key=lambda r: (-(r["rates"]["resolution_rate"] or 0), -r["received"], r["key"]))
    category_rows = [r.as_dict() | {"name_zh": cats[r.key].name_zh if r.key in cats else r.key,
                                    "name_en": cats[r.key].name_en if r.key in cats else r.key,
                                    "group": cats[r.key].group if r.key in cats else None}
                     for r in by_category]
    category_rows.sort(key=lambda r: (-r["received"], r["key"]))
    return {"from": start.isoformat(), "to": now.isoformat(), "total": stats.total(by_category).as_dict(),
            "by_category": category_rows, "by_region": region_rows}


async def open_counts(session: AsyncSession, *, watched: Region | None) -> dict[str, int]:
    """Incidents not finished, per status (the queue sizes a screen shows)."""
    stmt = select(Incident.status, func.count()).where(Incident.status.notin_(TERMINAL)).group_by(Incident.status)
    rows = await session.execute(_scoped(stmt, watched.code if watched else None))
    return {status: n for status, n in rows}


async def categories(session: AsyncSession) -> list[dict[str, Any]]:
    """The active categories, emergencies first, for forms and legends."""
    rows = await session.scalars(select(Category).where(Category.active.is_(True))
                                 .order_by(Category.group, Category.default_priority, Category.code))
    return [{"code": c.code, "name_zh": c.name_zh, "name_en": c.name_en, "group": c.group,
             "default_priority": c.default_priority, "item_type": c.item_type} for c in rows]


async def resources_geojson(session: AsyncSession, *, watched: Region | None,
                            limit: int = 5000) -> dict[str, Any]:
    """Emergency resource points inside the watched region as GeoJSON: a wall shows them at any zoom (the
    `resources` vector tiles start at z12, closer than a district fits on a screen). Capped at `limit`."""
    stmt = select(ResourcePoint.id, ResourcePoint.kind, ResourcePoint.name,
                  func.ST_X(ResourcePoint.geom).label("lon"), func.ST_Y(ResourcePoint.geom).label("lat"))
    if watched is not None:
        stmt = stmt.where(func.ST_Intersects(ResourcePoint.geom, select(Region.geom).where(
            Region.id == watched.id).scalar_subquery()))
    rows = await session.execute(stmt.order_by(ResourcePoint.id).limit(limit))
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": r.id, "geometry": {"type": "Point", "coordinates": [r.lon, r.lat]},
         "properties": {"id": r.id, "kind": r.kind, "name": r.name}} for r in rows]}
