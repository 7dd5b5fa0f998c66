"""A worker's (or liaison's) answer to an order: accept, decline with a reason, resolve with a note."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from command.assign.acks import accept_order, check_order_visible, decline_order, resolve_order
from command.core.errors import NotFound
from command.core.models import Incident, Order
from command.core.scoping import ensure_incident
from command.core.summaries import incident_summary, order_summary
from web.deps import Assignee, CurrentUser, RedisDep, SessionDep, SettingsDep
from web.idempotency import IDEMPOTENT
from web.request_types import Id64, VisibleText

# Actions take an Idempotency-Key (web.idempotency): a phone retrying on a flaky network applies them once.
router = APIRouter(prefix="/api/v1/orders", tags=["orders"], dependencies=[IDEMPOTENT])


class DeclineBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: VisibleText = Field(min_length=1, max_length=1000)


class ResolveBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: VisibleText = Field(min_length=1, max_length=1000)


@router.get("/{order_id}")
async def get_order(order_id: Id64, principal: CurrentUser,
                    session: SessionDep) -> dict:
    order = await session.get(Order, order_id)
    if order is None:
        raise NotFound(f"order {order_id} not found")
    check_order_visible(principal, order)
    incident = await session.get(Incident, order.incident_id)
    if principal.role not in ("worker", "liaison"):
        ensure_incident(principal, incident)
    return {"order": order_summary(order), "incident": incident_summary(incident)}


@router.post("/{order_id}/accept")
async def accept(order_id: Id64, principal: Assignee,
                 session: SessionDep, redis: RedisDep) -> dict:
    order = await accept_order(session, redis, order_id=order_id, principal=principal)
    return {"order": order_summary(order)}


@router.post("/{order_id}/decline")
async def decline(order_id: Id64, body: DeclineBody, principal: Assignee,
                  session: SessionDep, redis: RedisDep,
                  settings: SettingsDep) -> dict:
    order, nxt = await decline_order(session, redis, order_id=order_id, principal=principal, reason=body.reason,
                                     settings=settings)
    return {"order": order_summary(order), "next_order": order_summary(nxt) if nxt else None}


@router.post("/{order_id}/resolve")
async def resolve(order_id: Id64, body: ResolveBody, principal: Assignee,
                  session: SessionDep, redis: RedisDep,
                  settings: SettingsDep) -> dict:
    order = await resolve_order(session, redis, order_id=order_id, principal=principal, note=body.note,
                                settings=settings)
    return {"order": order_summary(order)}
