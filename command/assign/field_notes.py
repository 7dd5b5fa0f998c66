"""A grid worker's record on their own order: arrival on the scene (到场) and progress notes with photos.

A department's notes go through command.orders.liaison; a worker's resolution through
command.assign.acks.resolve_order."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from command.assign.acks import check_order_visible
from command.core.errors import Conflict, Forbidden, IllegalTransition, InvalidInput
from command.core.events import Actor
from command.core.lifecycle import OrderStatus
from command.core.models import Event
from command.core.moves import lock_order, record
from command.core.security import Principal
from command.orders.uploads import attach_uploads

IN_HAND = (OrderStatus.accepted, OrderStatus.extended)
MAX_TEXT = 2000


async def add_worker_note(session: AsyncSession, *, order_id: int, principal: Principal, text: str | None,
                          photos: Sequence[str] = (), arrived: bool = False) -> Event:
    """Record `order.arrived` (once per order) or `order.progress` on an accepted worker order."""
    body = (text or "").strip()
    if len(body) > MAX_TEXT:
        raise InvalidInput(f"the note is longer than {MAX_TEXT} characters")
    if not arrived and not body and not photos:
        raise InvalidInput("a note needs text or photos")
    incident, order = await lock_order(session, order_id)
    check_order_visible(principal, order)
    if principal.role != "worker" or order.assignee_kind != "worker":
        raise Forbidden("only the assigned grid worker records arrival and notes on a worker's order")
    photo_ids = await attach_uploads(session, photos=photos, uploaded_by=principal.user_id, incident_id=incident.id)
    if order.status not in IN_HAND:
        raise IllegalTransition(f"accept the order first; this one is {order.status}")
    kind = "order.arrived" if arrived else "order.progress"
    if arrived and await session.scalar(select(Event.id).where(Event.order_id == order.id,
                                                                Event.kind == "order.arrived").limit(1)):
        raise Conflict("arrival is already recorded for this order")
    return await record(session, incident=incident, order=order, actor=Actor(principal.username, principal.user_id),
                        kind=kind, reason=body or None, payload={"note": body or None, "photos": photo_ids})
