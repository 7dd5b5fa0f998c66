"""A department liaison's work orders: /api/v1/dept/orders…

Sign for (签收), progress notes, send back (退单), ask for an extension (延期) and report done with
feedback and photos (办结反馈). Worker orders are answered through /api/v1/orders (accept, decline,
resolve); a liaison may also sign for through its /accept, which calls the same service."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import Field
from sqlalchemy import select

from command.core.errors import InvalidInput
from command.core.lifecycle import OrderStatus
from command.core.models import Incident, Order
from command.core.scoping import incident_clause
from command.core.summaries import incident_summary, iso, order_summary
from command.orders import extensions, liaison
from web.deps import Liaison, SessionDep
from web.idempotency import IDEMPOTENT
from web.request_models import Body, Photos, Reason, ReasonIn
from web.request_types import Id64, Instant, SafeLine

# Actions take an Idempotency-Key (web.idempotency): a phone retrying on a flaky network applies them once.
router = APIRouter(prefix="/api/v1/dept", tags=["department work orders"], dependencies=[IDEMPOTENT])


class NoteIn(Body):
    text: Reason
    photos: Photos = Field(default_factory=list)


class ExtensionIn(ReasonIn):
    due_at: Instant


class DoneIn(Body):
    feedback: Reason
    photos: Photos = Field(default_factory=list)


def order_out(order: Order) -> dict:
    return order_summary(order) | {"due_at": iso(order.due_at), "accepted_at": iso(order.accepted_at),
                                   "done_at": iso(order.done_at), "created_at": iso(order.created_at)}


@router.get("/orders")
async def list_orders(principal: Liaison, session: SessionDep, status: OrderStatus | None = None,
                      department: Annotated[SafeLine | None, Query(max_length=64)] = None,
                      limit: Annotated[int, Query(ge=1, le=500)] = 100) -> dict:
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
async def sign(order_id: Id64, principal: Liaison,
               session: SessionDep) -> dict:
    return order_out(await liaison.sign_for(session, order_id=order_id, principal=principal))


@router.post("/orders/{order_id}/notes", status_code=201)
async def note(order_id: Id64, body: NoteIn, principal: Liaison,
               session: SessionDep) -> dict:
    event = await liaison.add_note(session, order_id=order_id, principal=principal, text=body.text,
                                   photos=body.photos)
    return {"event_id": event.id, "order_id": order_id}


@router.post("/orders/{order_id}/send-back")
async def send_back(order_id: Id64, body: ReasonIn, principal: Liaison,
                    session: SessionDep) -> dict:
    return order_out(await liaison.send_back(session, order_id=order_id, principal=principal, reason=body.reason))


@router.post("/orders/{order_id}/extensions", status_code=201)
async def ask_extension(order_id: Id64, body: ExtensionIn, principal: Liaison,
                        session: SessionDep) -> dict:
    req = await extensions.request_extension(session, order_id=order_id, principal=principal,
                                             reason=body.reason, due_at=body.due_at)
    return {"id": req.id, "order_id": req.order_id, "status": req.status,
            "requested_due_at": iso(req.requested_due_at)}


@router.post("/orders/{order_id}/done")
async def done(order_id: Id64, body: DoneIn, principal: Liaison,
               session: SessionDep) -> dict:
    order = await liaison.report_done(session, order_id=order_id, principal=principal, feedback=body.feedback,
                                      photos=body.photos)
    return order_out(order)
