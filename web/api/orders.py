"""A worker's (or liaison's) answer to an order: accept, decline with a reason, resolve with a note."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from command.acks import accept_order, check_order_visible, decline_order, resolve_order
from command.errors import NotFound
from command.models import Incident, Order
from command.scoping import ensure_incident
from command.security import Principal
from command.settings import Settings
from command.summaries import incident_summary, order_summary
from web.deps import current_principal, get_redis, get_session, get_settings, require_roles
from web.idempotency import IDEMPOTENT

# Actions take an Idempotency-Key (web.idempotency): a phone retrying on a flaky network applies them once.
router = APIRouter(prefix="/api/v1/orders", tags=["orders"], dependencies=[IDEMPOTENT])
_assignees = require_roles("worker", "liaison")


class DeclineBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=1000)


class ResolveBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = Field(min_length=1, max_length=1000)


@router.get("/{order_id}")
async def get_order(order_id: int, principal: Principal = Depends(current_principal),
                    session: AsyncSession = Depends(get_session)) -> dict:
    order = await session.get(Order, order_id)
    if order is None:
        raise NotFound(f"order {order_id} not found")
    check_order_visible(principal, order)
    incident = await session.get(Incident, order.incident_id)
    if principal.role not in ("worker", "liaison"):
        ensure_incident(principal, incident)
    return {"order": order_summary(order), "incident": incident_summary(incident)}


@router.post("/{order_id}/accept")
async def accept(order_id: int, principal: Principal = Depends(_assignees),
                 session: AsyncSession = Depends(get_session), redis: Redis = Depends(get_redis)) -> dict:
    order = await accept_order(session, redis, order_id=order_id, principal=principal)
    return {"order": order_summary(order)}


@router.post("/{order_id}/decline")
async def decline(order_id: int, body: DeclineBody, principal: Principal = Depends(_assignees),
                  session: AsyncSession = Depends(get_session), redis: Redis = Depends(get_redis),
                  settings: Settings = Depends(get_settings)) -> dict:
    order, nxt = await decline_order(session, redis, order_id=order_id, principal=principal, reason=body.reason,
                                     settings=settings)
    return {"order": order_summary(order), "next_order": order_summary(nxt) if nxt else None}


@router.post("/{order_id}/resolve")
async def resolve(order_id: int, body: ResolveBody, principal: Principal = Depends(_assignees),
                  session: AsyncSession = Depends(get_session), redis: Redis = Depends(get_redis),
                  settings: Settings = Depends(get_settings)) -> dict:
    order = await resolve_order(session, redis, order_id=order_id, principal=principal, note=body.note,
                                settings=settings)
    return {"order": order_summary(order)}
