"""挂账 (suspend), 作废 (cancel) and escalation to the level above: the operator's three ways of taking an
incident out of the normal flow, each with a reason, each checked against the lifecycle table and written to
the event log with the operator as actor."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from command.core.errors import Conflict, InvalidInput
from command.core.events import Actor
from command.core.lifecycle import INCIDENT_TERMINAL, ORDER_OFFERED, IncidentStatus, OrderStatus
from command.core.models import Event, Incident
from command.core.moves import lock_incident, lock_orders, move_incident, move_order, record
from command.core.scoping import ensure_incident
from command.core.security import Principal
from command.deadlines.scheduler import supervisor_region
from command.orders.work_orders import ORDER_GONE


def _actor(principal: Principal) -> Actor:
    return Actor(name=principal.username, user_id=principal.user_id)


def _reason(reason: str) -> str:
    if not reason.strip():
        raise InvalidInput("a reason is required", details=[{"field": "reason"}])
    return reason.strip()


async def suspend(session: AsyncSession, *, incident_id: int, principal: Principal, reason: str) -> Incident:
    """挂账: parked with a reason (still counted, its orders kept); the table says from where (409 otherwise)."""
    reason = _reason(reason)
    incident = await lock_incident(session, incident_id)
    ensure_incident(principal, incident)
    await move_incident(session, incident=incident, to=IncidentStatus.suspended, actor=_actor(principal),
                        kind="incident.suspended", reason=reason)
    return incident


async def cancel(session: AsyncSession, *, incident_id: int, principal: Principal, reason: str) -> Incident:
    """作废: the incident ends as cancelled; orders still offered or with a department are withdrawn. A worker
    already on it must send it back first (their load and phone follow that flow), as for a transfer."""
    reason = _reason(reason)
    incident = await lock_incident(session, incident_id)
    ensure_incident(principal, incident)
    orders = await lock_orders(session, incident.id)
    if in_hand := [o.id for o in orders if o.assignee_kind == "worker" and o.status not in ORDER_GONE
                   and o.status not in ORDER_OFFERED and o.status != OrderStatus.done]:
        raise Conflict(f"order(s) {in_hand} are in a worker's hands; have them sent back first")
    actor = _actor(principal)
    # The incident's move first: an illegal one (409) must leave the orders untouched too.
    await move_incident(session, incident=incident, to=IncidentStatus.cancelled, actor=actor,
                        kind="incident.cancelled", reason=reason)
    for order in orders:
        if order.status not in ORDER_GONE and order.status != OrderStatus.done:
            await move_order(session, incident=incident, order=order, to=OrderStatus.cancelled, actor=actor,
                             kind="order.cancelled", reason=reason)
    return incident


async def escalate(session: AsyncSession, *, incident_id: int, principal: Principal, reason: str) -> Event:
    """上报上级: hand the incident to the centre one level above the last one it went to (the first time: the
    region above its own). The event carries that region; above the top there is nobody to escalate to (409)."""
    reason = _reason(reason)
    incident = await lock_incident(session, incident_id)
    ensure_incident(principal, incident)
    if incident.status in {str(s) for s in INCIDENT_TERMINAL}:
        raise Conflict(f"incident {incident_id} is {incident.status}: nothing to escalate")
    before = await session.scalar(select(func.count()).select_from(Event).where(
        Event.incident_id == incident.id, Event.kind == "incident.escalated")) or 0
    level = before + 1
    path = list(incident.region_path or [])
    target = supervisor_region(path, level)
    if target is None:
        raise Conflict(f"incident {incident_id} is already with the top level: nobody above to escalate to")
    return await record(session, incident=incident, actor=_actor(principal), kind="incident.escalated",
                        reason=reason, payload={"escalation": {"level": level, "from_region": path[-level],
                                                               "to_region": target}})
