"""Reading incidents within the caller's scope: lists for consoles, one incident with its orders and timeline.

Operators, supervisors and admins see incidents in their region (command.scoping); a liaison sees incidents
their department has an order for, and only those orders; a worker sees incidents they have an order for, and
only their own orders. What a caller may not see "does not exist" (404), except an operator's out-of-region
incident, which is 403 as everywhere in the closed loop."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from command.errors import InvalidInput, NotFound
from command.lifecycle import IncidentStatus
from command.models import Event, Incident, Order
from command.routing import codes
from command.scoping import ensure_incident, unrestricted
from command.security import Principal
from command.summaries import incident_summary, iso, order_summary

MAX_PAGE = 500
# Who sees the reporter's name and phone (PIPL: only the roles that call the resident back). Workers,
# liaisons, the wall display and the board see the incident without them.
CALLBACK_ROLES = frozenset({"operator", "supervisor", "admin"})


def _own_orders(principal: Principal) -> ColumnElement[bool] | None:
    if principal.role == "worker":
        return Order.worker_id == principal.worker_id
    if principal.role == "liaison":
        return Order.department_code == principal.department_code
    return None


def scoped_incidents(principal: Principal) -> Select:
    stmt = select(Incident)
    own = _own_orders(principal)
    if own is not None:
        return stmt.where(exists().where(Order.incident_id == Incident.id, own))
    if unrestricted(principal):
        return stmt
    return stmt.where(Incident.region_path.op("@>")(codes([principal.region_code])))


async def list_incidents(session: AsyncSession, *, principal: Principal, status: str | None = None,
                         needs_attention: bool | None = None, before_id: int | None = None,
                         limit: int = 100) -> list[dict[str, Any]]:
    """Newest first; page with before_id (the last id of the previous page)."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be 1-{MAX_PAGE}")
    stmt = scoped_incidents(principal)
    if status is not None:
        if status not in {s.value for s in IncidentStatus}:
            raise InvalidInput(f"unknown status {status!r}", details=[{"field": "status", "allowed": list(
                IncidentStatus)}])
        stmt = stmt.where(Incident.status == status)
    if needs_attention is True:
        stmt = stmt.where((Incident.status == IncidentStatus.needs_attention) | Incident.attention_reason.isnot(None))
    elif needs_attention is False:
        stmt = stmt.where(Incident.status != IncidentStatus.needs_attention, Incident.attention_reason.is_(None))
    if before_id is not None:
        stmt = stmt.where(Incident.id < before_id)
    rows = await session.scalars(stmt.order_by(Incident.id.desc()).limit(limit))
    return [incident_summary(i) for i in rows]


def event_dict(e: Event) -> dict[str, Any]:
    return {"id": e.id, "kind": e.kind, "actor": e.actor, "order_id": e.order_id, "from_state": e.from_state,
            "to_state": e.to_state, "reason": e.reason, "created_at": iso(e.created_at),
            # upload ids of the photos an event carries (notes, feedback, a report's photos) for the timelines
            "photos": list((e.payload or {}).get("photos") or [])}


async def visible_incident(session: AsyncSession, *, principal: Principal, incident_id: int) -> Incident:
    incident = await session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(f"incident {incident_id} not found")
    own = _own_orders(principal)
    if own is not None:
        mine = await session.scalar(select(Order.id).where(Order.incident_id == incident_id, own).limit(1))
        if mine is None:
            raise NotFound(f"incident {incident_id} not found")
    else:
        ensure_incident(principal, incident)
    return incident


async def incident_detail(session: AsyncSession, *, principal: Principal, incident_id: int) -> dict[str, Any]:
    """The incident, the orders the caller may see, and the timeline of those (all of it for operators); the
    reporter (for a call-back) only for CALLBACK_ROLES."""
    incident = await visible_incident(session, principal=principal, incident_id=incident_id)
    own = _own_orders(principal)
    order_q = select(Order).where(Order.incident_id == incident_id)
    if own is not None:
        order_q = order_q.where(own)
    orders = list(await session.scalars(order_q.order_by(Order.id)))
    event_q = select(Event).where(Event.incident_id == incident_id)
    if own is not None:  # their orders' events and the incident's own moves, not other assignees' orders
        event_q = event_q.where(Event.order_id.is_(None) | Event.order_id.in_([o.id for o in orders]))
    timeline = list(await session.scalars(event_q.order_by(Event.id)))
    out = {**incident_summary(incident), "orders": [order_summary(o) for o in orders],
           "events": [event_dict(e) for e in timeline]}
    if principal.role in CALLBACK_ROLES:
        out["reporter"] = {"name": incident.reporter_name, "phone": incident.reporter_phone}
    return out
