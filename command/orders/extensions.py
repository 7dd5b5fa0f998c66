"""Extensions (延期): a department asks for a later deadline; a supervisor of the incident's region
grants it (the order moves to `extended`, its resolve deadline moves) or refuses it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from command.core.clock import utcnow
from command.core.errors import Conflict, IllegalTransition, InvalidInput, NotFound
from command.core.lifecycle import OrderStatus
from command.core.models import ExtensionRequest
from command.core.moves import lock_order, move_order, record
from command.core.scoping import ensure_incident
from command.core.security import Principal
from command.deadlines.deadlines import move_resolve
from command.orders.liaison import IN_HAND, _order, _text, actor_of


async def request_extension(session: AsyncSession, *, order_id: int, principal: Principal, reason: str | None,
                            due_at: datetime) -> ExtensionRequest:
    why = _text(reason, "a reason for the extension", required=True)
    if due_at.tzinfo is None:
        raise InvalidInput("the requested deadline needs a timezone")
    incident, order = await _order(session, order_id, principal)
    if order.status not in IN_HAND:
        raise IllegalTransition(f"an extension can be asked only for an order in hand; this one is {order.status}")
    floor = max(filter(None, [order.due_at, utcnow()]))
    if due_at <= floor:
        raise InvalidInput(f"the requested deadline must be after {floor.isoformat()}")
    pending = await session.scalar(select(ExtensionRequest.id).where(
        ExtensionRequest.order_id == order.id, ExtensionRequest.status == "pending"))
    if pending is not None:
        raise Conflict(f"extension request {pending} for this order is still waiting for a decision")
    req = ExtensionRequest(order_id=order.id, incident_id=incident.id, requested_by=principal.user_id, reason=why,
                           requested_due_at=due_at, status="pending")
    session.add(req)
    await session.flush()
    await record(session, incident=incident, order=order, actor=actor_of(principal), kind="order.extension_requested",
                 reason=why, payload={"extension": {"id": req.id, "requested_due_at": due_at.isoformat()}})
    return req


async def decide_extension(session: AsyncSession, *, request_id: int, principal: Principal, grant: bool,
                           reason: str | None) -> ExtensionRequest:
    why = _text(reason, "a reason for refusing", required=not grant)
    order_id = await session.scalar(select(ExtensionRequest.order_id).where(ExtensionRequest.id == request_id))
    if order_id is None:
        raise NotFound(f"extension request {request_id} not found")
    incident, order = await lock_order(session, order_id)
    ensure_incident(principal, incident)
    req = await session.scalar(select(ExtensionRequest).where(ExtensionRequest.id == request_id).with_for_update())
    assert req is not None
    if req.status != "pending":
        raise Conflict(f"extension request {request_id} was already {req.status}")
    actor = actor_of(principal)
    req.decided_by, req.decided_at, req.decision_reason = principal.user_id, utcnow(), why
    payload = {"extension": {"id": req.id, "requested_due_at": req.requested_due_at.isoformat()}}
    if not grant:
        req.status = "refused"
        await record(session, incident=incident, order=order, actor=actor, kind="order.extension_refused",
                     reason=why, payload=payload)
        return req
    if order.status not in IN_HAND:
        raise IllegalTransition(f"the order is {order.status}; only an order in hand can be extended")
    req.status = "granted"
    await move_order(session, incident=incident, order=order, to=OrderStatus.extended, actor=actor,
                     kind="order.extended", reason=why or "extension granted", payload=payload)
    await move_resolve(session, incident=incident, order=order, due_at=req.requested_due_at)
    if incident.resolve_due_at is None or incident.resolve_due_at < req.requested_due_at:
        await move_resolve(session, incident=incident, order=None, due_at=req.requested_due_at)
    await session.flush()
    return req
