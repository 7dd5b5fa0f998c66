"""Reading incidents within the caller's scope: lists for consoles, one incident with its orders and timeline.

Operators, supervisors and admins see incidents in their region (command.core.scoping); a liaison sees incidents
their department has an order for, and only those orders; a worker sees incidents they have an order for, and
only their own orders. What a caller may not see "does not exist" (404), except an operator's out-of-region
incident, which is 403 as everywhere in the closed loop."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, exists, false, select
from sqlalchemy.ext.asyncio import AsyncSession

from command.core.attention import WAITING
from command.core.errors import InvalidInput, NotFound
from command.core.lifecycle import INCIDENT_MOVES, IncidentStatus
from command.core.logctx import REQUEST_ID
from command.core.models import Event, Incident, IncidentLink, Order, ReporterView, ServiceItem
from command.core.routing import codes
from command.core.scoping import ensure_incident, scope_region
from command.core.security import Principal
from command.core.summaries import incident_summary, iso, order_summary
from command.orders import petitions

MAX_PAGE = 500
# Who sees the reporter's name and phone (PIPL: only the roles that call the resident back). Workers,
# liaisons, the wall display and the board see the incident without them.
CALLBACK_ROLES = frozenset({"operator", "supervisor", "admin"})


def _own_orders(principal: Principal) -> ColumnElement[bool] | None:
    """The orders a worker or liaison may see (None: any, within the region). A worker account without its
    worker record, or a liaison without a department, has none (SQLAlchemy renders `== None` as IS NULL, which
    would select every order no worker holds: all department orders)."""
    if principal.role == "worker":
        return false() if principal.worker_id is None else Order.worker_id == principal.worker_id
    if principal.role == "liaison":
        return false() if not principal.department_code else Order.department_code == principal.department_code
    return None


def scoped_incidents(principal: Principal) -> Select[Incident]:
    stmt = select(Incident)
    own = _own_orders(principal)
    if own is not None:
        return stmt.where(exists().where(Order.incident_id == Incident.id, own))
    region = scope_region(principal)
    if region is None:
        return stmt
    return stmt.where(Incident.region_path.op("@>")(codes([region])))


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
    # A reason that only says dispatch waits for the workers (after a live-state rebuild) needs nobody.
    actionable = Incident.attention_reason.isnot(None) & (
        ~Incident.attention_reason.like(f"{WAITING}%") | Incident.attention_reason.like("%; %"))
    if needs_attention is True:
        stmt = stmt.where((Incident.status == IncidentStatus.needs_attention) | actionable)
    elif needs_attention is False:
        stmt = stmt.where(Incident.status != IncidentStatus.needs_attention, ~actionable)
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
    reporter (for a call-back) only for CALLBACK_ROLES, and a petitioner only for petition staff and the case's
    leader (command.orders.petitions)."""
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
           "events": [event_dict(e) for e in timeline],
           # The moves the lifecycle allows from here: the console shows only those buttons (the server still judges).
           "moves": sorted(INCIDENT_MOVES[IncidentStatus(incident.status)])}
    if incident.service_item_code:  # filed from the catalogue: the item, by its current name
        name = await session.scalar(select(ServiceItem.name).where(ServiceItem.code == incident.service_item_code))
        out["service_item"] = {"code": incident.service_item_code, "name": name}
    if own is None:  # operators: the duplicates suggested at intake, still to be merged or dismissed
        out["duplicates"] = list(await session.scalars(select(IncidentLink.other_id).where(
            IncidentLink.incident_id == incident_id, IncidentLink.kind == "suggested").order_by(IncidentLink.other_id)))
    if principal.role in CALLBACK_ROLES and await petitions.reporter_visible(session, principal, incident):
        out["reporter"] = {"name": incident.reporter_name, "phone": incident.reporter_phone}
        if incident.reporter_name or incident.reporter_phone:  # PIPL: every reading of them is on record
            session.add(ReporterView(user_id=principal.user_id, username=principal.username, role=principal.role,
                                     incident_id=incident.id, via="incident_detail", request_id=REQUEST_ID.get()))
    return out
