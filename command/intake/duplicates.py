"""Duplicates: a new alert of the same category within a distance and time of an open incident.

Intake calls `find_duplicate` once the new incident is stored (before dispatch), then `link_or_merge`:
a sensor alert is merged at once (a flood of alarms about one event is dispatched once); a person's
report is only linked and suggested to the operator, who merges (`merge`) or dismisses it."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from command.core.errors import InvalidInput, NotFound
from command.core.events import Actor
from command.core.lifecycle import INCIDENT_OPEN, IncidentStatus, OrderStatus
from command.core.models import Incident, IncidentLink
from command.core.moves import lock_incident, lock_orders, move_incident, move_order, record
from command.core.summaries import incident_summary
from command.orders.work_orders import ORDER_GONE
from geo.locate import search_radius_deg
from pgnative.statements import Native

AUTO_MERGE_CHANNELS = ("sensor",)
# States of an incident that a new alert may duplicate: open, and not itself a duplicate.
_CANDIDATE = sorted(str(s) for s in INCIDENT_OPEN - {IncidentStatus.merged})


# The GiST box test must drive the scan. The other conditions are wrapped in IS TRUE (the same in a WHERE) so that
# no b-tree index can serve them: a plan cached while the table was small or its statistics stale (a table just
# truncated, a burst of alerts) otherwise walked ix_incidents_created_at over every incident of the last hour and
# measured each on the spheroid (3.7 ms and 2,500 buffers per alert in the benchmark, 0.1 ms through the GiST).
_SNAPSHOT = ("id", "public_id", "category_code", "priority", "status", "channel", "lon", "lat", "region_code",
             "region_path", "description", "created_at", "attention_reason")  # what incident_summary reads
_FIND = Native(f"""
SELECT {", ".join(_SNAPSHOT)} FROM incidents
WHERE (category_code = :category) IS TRUE AND (status = ANY(:statuses)) IS TRUE AND merged_into_id IS NULL
  AND (created_at >= :since AND created_at <= :at) IS TRUE AND id IS DISTINCT FROM :exclude
  AND geom && ST_Expand(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), :radius_deg)
  AND ST_DWithin(geom::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography, :distance)
ORDER BY ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography), created_at, id
LIMIT 1
""")


async def find_duplicate(
    session: AsyncSession,
    *,
    category_code: str,
    lon: float,
    lat: float,
    at: datetime,
    distance_m: float = 150.0,
    window_s: int = 3600,
    exclude_id: int | None = None,
) -> Incident | None:
    """The nearest open incident of the category within `distance_m` metres, created in the
    `window_s` seconds before `at` (the earliest wins a tie).

    The incident found is a snapshot of its row with the columns `incident_summary` shows, not an object of the
    session (loading it through the ORM cost more than the whole query): lock it by id to change it. The box test
    (`&&` on a square of `radius_deg` that holds the whole circle) lets the GiST index on incidents.geom pick the
    candidates; without it every open incident of the category was measured on the spheroid, which made this the
    costliest statement of an alert once thousands were open.
    Pending changes to other incidents in the session are flushed first, as the autoflush of an ORM query would;
    the excluded incident (the new alert itself) cannot match, so its changes wait."""
    if any(isinstance(o, Incident) and o.id != exclude_id for o in (*session.new, *session.dirty)):
        await session.flush()
    found = await _FIND.fetchrow(
        session, category=category_code, statuses=_CANDIDATE, since=at - timedelta(seconds=window_s), at=at,
        exclude=exclude_id, lon=float(lon), lat=float(lat), distance=float(distance_m),
        radius_deg=search_radius_deg(float(lat), float(distance_m)))
    return None if found is None else Incident(**dict(zip(_SNAPSHOT, found, strict=True)))


# Both incidents are rows already (the new one was inserted natively), so the distance is measured in SQL.
_LINK = Native("""
INSERT INTO incident_links (incident_id, other_id, kind, distance_m)
SELECT a.id, b.id, CAST(:kind AS varchar), ST_Distance(a.geom::geography, b.geom::geography)
FROM incidents a, incidents b WHERE a.id = :incident_id AND b.id = :other_id
ON CONFLICT (incident_id, other_id) DO UPDATE SET kind = EXCLUDED.kind
""")


async def _link(session: AsyncSession, incident: Incident, other: Incident, kind: str) -> None:
    await _LINK.fetch(session, incident_id=incident.id, other_id=other.id, kind=kind)


async def link_or_merge(session: AsyncSession, *, incident: Incident, original: Incident, actor: Actor) -> bool:
    """Merge a sensor alert into `original` (True: do not dispatch it) or suggest the link (False)."""
    if incident.channel in AUTO_MERGE_CHANNELS:
        await merge(session, incident_id=incident.id, into_id=original.id, actor=actor,
                    reason=f"automatic: {incident.channel} alert duplicates incident {original.id}")
        return True
    await _link(session, incident, original, "suggested")
    await record(session, incident=incident, actor=actor, kind="incident.duplicate_suggested",
                 payload={"duplicate_of": incident_summary(original)})
    return False


async def merge(session: AsyncSession, *, incident_id: int, into_id: int, actor: Actor, reason: str | None) -> Incident:
    """Fold a duplicate into another incident: its live orders are withdrawn, its history kept."""
    if incident_id == into_id:
        raise InvalidInput("an incident cannot be merged into itself")
    first, second = sorted((incident_id, into_id))  # lock in id order: two opposite merges cannot deadlock
    locked = {first: await lock_incident(session, first), second: await lock_incident(session, second)}
    incident, target = locked[incident_id], locked[into_id]
    if target.status not in _CANDIDATE:
        raise InvalidInput(f"incident {into_id} is {target.status}; merge into an open incident")
    await move_incident(session, incident=incident, to=IncidentStatus.merged, actor=actor, kind="incident.merged",
                        reason=reason, payload={"merged_into": incident_summary(target)})
    incident.merged_into_id = target.id
    for order in await lock_orders(session, incident.id):
        if order.status not in ORDER_GONE and order.status != OrderStatus.done:
            await move_order(session, incident=incident, order=order, to=OrderStatus.cancelled, actor=actor,
                             kind="order.cancelled", reason=f"incident merged into {target.id}")
    await _link(session, incident, target, "merged")
    await record(session, incident=target, actor=actor, kind="incident.duplicate_merged",
                 payload={"duplicate": incident_summary(incident)})
    await session.flush()
    return incident


async def dismiss(session: AsyncSession, *, incident_id: int, other_id: int, actor: Actor) -> None:
    incident = await lock_incident(session, incident_id)
    link = await session.scalar(select(IncidentLink).where(
        IncidentLink.incident_id == incident_id, IncidentLink.other_id == other_id, IncidentLink.kind == "suggested"))
    if link is None:
        raise NotFound(f"no suggested duplicate link from {incident_id} to {other_id}")
    link.kind = "dismissed"
    await record(session, incident=incident, actor=actor, kind="incident.duplicate_dismissed",
                 payload={"other_id": other_id})
    await session.flush()
