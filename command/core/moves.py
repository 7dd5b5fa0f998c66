"""Every state change of the closed loop goes through here: the move is checked against the one
transition table (command.core.lifecycle), the row changes, and the event log records who, when, from,
to and why, in the same transaction.

Locks: a service that changes an incident or its orders locks the incident row first, then the
order rows (always in that order, so two services never deadlock), which also serialises the
"have all departments reported done?" decision."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from command.core.clock import utcnow
from command.core.errors import NotFound
from command.core.events import Actor, append_event, flush_unless_batched
from command.core.lifecycle import IncidentStatus, OrderStatus, check_incident_move, check_order_move
from command.core.models import Event, Incident, Order
from command.core.summaries import incident_summary, order_summary
from command.core.telemetry import ALERT_TO_DISPATCH, DISPATCHES


async def lock_incident(session: AsyncSession, incident_id: int) -> Incident:
    incident = await session.scalar(
        select(Incident).where(Incident.id == incident_id).with_for_update().execution_options(populate_existing=True)
    )
    if incident is None:
        raise NotFound(f"incident {incident_id} not found")
    return incident


async def lock_order(session: AsyncSession, order_id: int) -> tuple[Incident, Order]:
    """The order and its incident, both locked (incident first)."""
    incident_id = await session.scalar(select(Order.incident_id).where(Order.id == order_id))
    if incident_id is None:
        raise NotFound(f"order {order_id} not found")
    incident = await lock_incident(session, incident_id)
    order = await session.scalar(
        select(Order).where(Order.id == order_id).with_for_update().execution_options(populate_existing=True)
    )
    assert order is not None  # orders are never deleted
    return incident, order


async def lock_orders(session: AsyncSession, incident_id: int) -> list[Order]:
    """Every order of an (already locked) incident, locked, oldest first."""
    rows = await session.scalars(
        select(Order).where(Order.incident_id == incident_id).order_by(Order.id).with_for_update()
        .execution_options(populate_existing=True)
    )
    return list(rows)


async def move_incident(
    session: AsyncSession,
    *,
    incident: Incident,
    to: IncidentStatus | str,
    actor: Actor,
    kind: str = "incident.status",
    reason: str | None = None,
    order: Order | None = None,
    payload: dict[str, Any] | None = None,
) -> Event:
    """Move an incident; IllegalTransition (409) leaves it untouched."""
    check_incident_move(incident.status, to)
    target = IncidentStatus(to)
    before = incident.status
    now = utcnow()
    incident.status = str(target)
    incident.updated_at = now
    if target == IncidentStatus.dispatched and incident.dispatched_at is None:
        incident.dispatched_at = now
        DISPATCHES.inc()
        if incident.created_at is not None:
            ALERT_TO_DISPATCH.observe(max(0.0, (now - incident.created_at).total_seconds()))
    elif target == IncidentStatus.resolved:
        incident.resolved_at = now
    elif target == IncidentStatus.closed:
        incident.closed_at = now
    elif target == IncidentStatus.reopened:
        # The latest resolution is the one that counts; the reopen itself stays in the log.
        incident.resolved_at = None
        incident.closed_at = None
    await flush_unless_batched(session)
    body = {"incident": incident_summary(incident)}
    if order is not None:
        body["order"] = order_summary(order)
    body.update(payload or {})
    return await append_event(
        session, kind=kind, actor=actor, incident=incident, order=order,
        from_state=before, to_state=str(target), reason=reason, payload=body,
    )


async def move_order(
    session: AsyncSession,
    *,
    incident: Incident,
    order: Order,
    to: OrderStatus | str,
    actor: Actor,
    kind: str = "order.status",
    reason: str | None = None,
    payload: dict[str, Any] | None = None,
) -> Event:
    """Move an order; IllegalTransition (409) leaves it untouched."""
    check_order_move(order.status, to)
    target = OrderStatus(to)
    before = order.status
    now = utcnow()
    order.status = str(target)
    order.updated_at = now
    if target in (OrderStatus.accepted, OrderStatus.signed_for) and order.accepted_at is None:
        order.accepted_at = now
    elif target == OrderStatus.done:
        order.done_at = now
    elif before == OrderStatus.done:
        order.done_at = None  # rework: the order is back in hand
    await flush_unless_batched(session)
    body = {"order": order_summary(order), "incident": incident_summary(incident)}
    body.update(payload or {})
    return await append_event(
        session, kind=kind, actor=actor, incident=incident, order=order,
        from_state=before, to_state=str(target), reason=reason, payload=body,
    )


async def record(
    session: AsyncSession,
    *,
    incident: Incident,
    actor: Actor,
    kind: str,
    order: Order | None = None,
    reason: str | None = None,
    payload: dict[str, Any] | None = None,
) -> Event:
    """An event that is not a state move (a progress note, an extension request, a callback…)."""
    body: dict[str, Any] = {"incident": incident_summary(incident)}
    if order is not None:
        body["order"] = order_summary(order)
    body.update(payload or {})
    return await append_event(
        session, kind=kind, actor=actor, incident=incident, order=order, reason=reason, payload=body
    )
