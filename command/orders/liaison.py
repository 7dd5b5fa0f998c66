"""A department liaison's work on a work order: sign for it (签收), note progress, send it back (退单),
report it done with feedback and photos (办结反馈). Extensions (延期) are in command.orders.extensions."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from command.core.errors import IllegalTransition, InvalidInput
from command.core.events import Actor
from command.core.lifecycle import IncidentStatus, OrderStatus, check_incident_move
from command.core.models import Event, Incident, Order
from command.core.moves import lock_order, move_incident, move_order, record
from command.core.scoping import ensure_department_order
from command.core.security import Principal
from command.orders.uploads import attach_uploads
from command.orders.work_orders import maybe_resolve

IN_HAND = (OrderStatus.signed_for, OrderStatus.extended, OrderStatus.accepted)
MAX_TEXT = 4000


def actor_of(principal: Principal) -> Actor:
    return Actor(name=principal.username, user_id=principal.user_id)


def _text(value: str | None, what: str, *, required: bool) -> str | None:
    value = (value or "").strip()
    if required and not value:
        raise InvalidInput(f"{what} is required")
    if len(value) > MAX_TEXT:
        raise InvalidInput(f"{what} is longer than {MAX_TEXT} characters")
    return value or None


async def _order(session: AsyncSession, order_id: int, principal: Principal) -> tuple[Incident, Order]:
    incident, order = await lock_order(session, order_id)
    ensure_department_order(principal, order, incident)
    return incident, order


async def sign_for(session: AsyncSession, *, order_id: int, principal: Principal) -> Order:
    incident, order = await _order(session, order_id, principal)
    actor = actor_of(principal)
    await move_order(session, incident=incident, order=order, to=OrderStatus.signed_for, actor=actor,
                     kind="order.signed_for")
    if incident.status in (IncidentStatus.dispatched, IncidentStatus.reopened):
        await move_incident(session, incident=incident, to=IncidentStatus.in_progress, actor=actor,
                            kind="incident.in_progress", order=order,
                            reason=f"signed for by {order.department_code}")
    return order


async def add_note(session: AsyncSession, *, order_id: int, principal: Principal, text: str | None,
                   photos: Sequence[str] = ()) -> Event:
    incident, order = await _order(session, order_id, principal)
    body = _text(text, "a progress note", required=True)
    photo_ids = await attach_uploads(session, photos=photos, uploaded_by=principal.user_id, incident_id=incident.id)
    if order.status not in IN_HAND:
        raise IllegalTransition(f"progress can be noted only on an order in hand; this one is {order.status}")
    return await record(session, incident=incident, order=order, actor=actor_of(principal), kind="order.progress",
                        reason=body, payload={"note": body, "photos": photo_ids})


async def send_back(session: AsyncSession, *, order_id: int, principal: Principal, reason: str | None) -> Order:
    """退单: the order ends as returned and the incident goes back to the operator."""
    why = _text(reason, "a reason for sending the order back", required=True)
    incident, order = await _order(session, order_id, principal)
    actor = actor_of(principal)
    await move_order(session, incident=incident, order=order, to=OrderStatus.returned, actor=actor,
                     kind="order.returned", reason=why)
    try:
        check_incident_move(incident.status, IncidentStatus.returned)
    except IllegalTransition:
        return order  # e.g. already returned by another department: the order's event says it
    await move_incident(session, incident=incident, to=IncidentStatus.returned, actor=actor, kind="incident.returned",
                        order=order, reason=f"{order.department_code}: {why}")
    return order


async def report_done(session: AsyncSession, *, order_id: int, principal: Principal, feedback: str | None,
                      photos: Sequence[str] = ()) -> Order:
    """办结反馈: the department's share is done; the incident resolves when every share is."""
    body = _text(feedback, "feedback", required=True)
    incident, order = await _order(session, order_id, principal)
    photo_ids = await attach_uploads(session, photos=photos, uploaded_by=principal.user_id, incident_id=incident.id)
    actor = actor_of(principal)
    await move_order(session, incident=incident, order=order, to=OrderStatus.done, actor=actor, kind="order.done",
                     reason=body, payload={"feedback": body, "photos": photo_ids})
    await maybe_resolve(session, incident=incident, actor=actor)
    return order
