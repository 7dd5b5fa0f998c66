"""A department liaison's work orders: /api/v1/dept/orders…

Sign for (签收), progress notes, send back (退单), ask for an extension (延期) and report done with
feedback and photos (办结反馈). Worker orders are answered through /api/v1/orders (accept, decline,
resolve); a liaison may also sign for through its /accept, which calls the same service."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from command import extensions, liaison
from command.errors import InvalidInput
from command.lifecycle import OrderStatus
from command.models import Incident, Order
from command.scoping import incident_clause
from command.security import Principal
from command.summaries import incident_summary, iso, order_summary
from web.deps import get_session, require_roles
from web.idempotency import IDEMPOTENT

# Actions take an Idempotency-Key (web.idempotency): a phone retrying on a flaky network applies them once.
router = APIRouter(prefix="/api/v1/dept", tags=["department work orders"], dependencies=[IDEMPOTENT])
Liaison = require_roles("liaison", "supervisor")


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NoteIn(_Body):
    text: str = Field(min_length=1, max_length=4000)
    photos: list[str] = Field(default_factory=list, max_length=12)


class ReasonIn(_Body):
    reason: str = Field(min_length=1, max_length=4000)


class ExtensionIn(_Body):
    reason: str = Field(min_length=1, max_length=4000)
    due_at: datetime


class DoneIn(_Body):
    feedback: str = Field(min_length=1, max_length=4000)
    photos: list[str] = Field(default_factory=list, max_length=12)


def order_out(order: Order) -> dict:
    return order_summary(order) | {"due_at": iso(order.due_at), "accepted_at": iso(order.accepted_at),
                                   "done_at": iso(order.done_at), "created_at": iso(order.created_at)}


@router.get("/orders")
async def list_orders(
    status: OrderStatus | None = None,
    department: str | None = Query(None, max_length=64),
    limit: int = Query(100, ge=1, le=500),
    principal: Principal = Depends(Liaison),
    session: AsyncSession = Depends(get_session),
) -> dict:
    """A liaison sees their department's orders; a supervisor names a department (within their region)."""
    code = principal.department_code if principal.role == "liaison" else department
    if not code:
        raise InvalidInput("name a department (?department=)")
    query = (select(Order, Incident).join(Incident, Incident.id == Order.incident_id)
             .where(Order.assignee_kind == "department", Order.department_code == code)
             .order_by(Order.id.desc()).limit(limit))
    if principal.role != "liaison" and (clause := incident_clause(principal)) is not None:
        query = query.where(clause)
    if status is not None:
        query = query.where(Order.status == status.value)
    rows = (await session.execute(query)).all()
    return {"orders": [order_out(o) | {"incident": incident_summary(i)} for o, i in rows]}


@router.post("/orders/{order_id}/sign")
async def sign(order_id: int, principal: Principal = Depends(Liaison),
               session: AsyncSession = Depends(get_session)) -> dict:
    return order_out(await liaison.sign_for(session, order_id=order_id, principal=principal))


@router.post("/orders/{order_id}/notes", status_code=201)
async def note(order_id: int, body: NoteIn, principal: Principal = Depends(Liaison),
               session: AsyncSession = Depends(get_session)) -> dict:
    event = await liaison.add_note(session, order_id=order_id, principal=principal, text=body.text,
                                   photos=body.photos)
    return {"event_id": event.id, "order_id": order_id}


@router.post("/orders/{order_id}/send-back")
async def send_back(order_id: int, body: ReasonIn, principal: Principal = Depends(Liaison),
                    session: AsyncSession = Depends(get_session)) -> dict:
    return order_out(await liaison.send_back(session, order_id=order_id, principal=principal, reason=body.reason))


@router.post("/orders/{order_id}/extensions", status_code=201)
async def ask_extension(order_id: int, body: ExtensionIn, principal: Principal = Depends(Liaison),
                        session: AsyncSession = Depends(get_session)) -> dict:
    req = await extensions.request_extension(session, order_id=order_id, principal=principal,
                                             reason=body.reason, due_at=body.due_at)
    return {"id": req.id, "order_id": req.order_id, "status": req.status,
            "requested_due_at": iso(req.requested_due_at)}


@router.post("/orders/{order_id}/done")
async def done(order_id: int, body: DoneIn, principal: Principal = Depends(Liaison),
               session: AsyncSession = Depends(get_session)) -> dict:
    order = await liaison.report_done(session, order_id=order_id, principal=principal, feedback=body.feedback,
                                      photos=body.photos)
    return order_out(order)
