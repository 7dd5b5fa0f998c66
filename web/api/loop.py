"""The operator's closed-loop actions on an incident: /api/v1/incidents/{id}/…

Department work orders (联办件: lead + supporting), on-the-spot resolution (即办件/答复件), check (核查),
rework (返工), close (结案), phone callback (回访), jurisdiction transfer, duplicate merge/dismiss,
挂账 (suspend), 作废 (cancel), escalation to the level above, its deadlines and the resident's tracking link."""

from __future__ import annotations

from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from command.core.errors import NotFound
from command.core.events import Actor
from command.core.models import Deadline, Incident
from command.core.scoping import ensure_incident
from command.core.security import Principal
from command.core.summaries import incident_summary, iso
from command.deadlines import supervision
from command.intake import duplicates
from command.orders import callbacks, disposition, review, transfer, work_orders
from command.orders.tracking import tracking_page, tracking_token
from web.api.dept import order_out
from web.deps import Operator, SessionDep, SettingsDep
from web.request_models import Body, OptionalReason, ReasonIn
from web.request_types import BodyId64, Id64, Instant, SafeLine, SafeText, VisibleText

router = APIRouter(prefix="/api/v1/incidents", tags=["closed loop"])


DepartmentCode = Annotated[SafeLine, Field(min_length=1, max_length=64)]


class DepartmentsIn(Body):
    lead: DepartmentCode
    supports: list[DepartmentCode] = Field(default_factory=list, max_length=20)
    due_at: Instant | None = None
    support_due_at: dict[DepartmentCode, Instant] = Field(default_factory=dict, max_length=20)
    item_type: Literal["immediate", "promise", "joint", "answer"] | None = None


class NoteIn(Body):
    note: SafeText | None = Field(None, max_length=4000)


class RequiredNoteIn(Body):
    note: VisibleText = Field(min_length=1, max_length=4000)


class ReworkIn(ReasonIn):
    order_ids: list[BodyId64] = Field(default_factory=list, max_length=50)


class CallbackIn(Body):
    rating: Literal["satisfied", "basically_satisfied", "dissatisfied"]
    comment: SafeText | None = Field(None, max_length=1000)
    reopen: bool = True


class TransferIn(ReasonIn):
    region_code: SafeLine = Field(min_length=1, max_length=64)


class MergeIn(Body):
    into_id: BodyId64
    reason: OptionalReason = None


def _actor(principal: Principal) -> Actor:
    return Actor(name=principal.username, user_id=principal.user_id)


async def _scoped(session: AsyncSession, incident_id: int, principal: Principal) -> Incident:
    incident = await session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(f"incident {incident_id} not found")
    ensure_incident(principal, incident)
    return incident


def _out(incident: Incident) -> dict:
    return incident_summary(incident) | {"item_type": incident.item_type, "resolved_at": iso(incident.resolved_at),
                                         "closed_at": iso(incident.closed_at),
                                         "respond_due_at": iso(incident.respond_due_at),
                                         "resolve_due_at": iso(incident.resolve_due_at)}


@router.post("/{incident_id}/departments", status_code=201)
async def assign(incident_id: Id64, body: DepartmentsIn, principal: Operator,
                 session: SessionDep, settings: SettingsDep) -> dict:
    incident = await _scoped(session, incident_id, principal)
    if body.item_type:
        await work_orders.set_item_type(session, incident=incident, item_type=body.item_type)
    orders = await work_orders.assign_departments(
        session, incident_id=incident_id, lead=body.lead, supports=body.supports, actor=_actor(principal),
        tz=ZoneInfo(settings.timezone), due_at=body.due_at, support_due_at=body.support_due_at)
    return {"incident": _out(incident), "orders": [order_out(o) for o in orders]}


@router.post("/{incident_id}/on-the-spot")
async def on_the_spot(incident_id: Id64, body: RequiredNoteIn, principal: Operator,
                      session: SessionDep) -> dict:
    await _scoped(session, incident_id, principal)
    return _out(await review.resolve_on_the_spot(session, incident_id=incident_id, actor=_actor(principal),
                                                 note=body.note))


@router.post("/{incident_id}/verify")
async def verify(incident_id: Id64, body: NoteIn, principal: Operator,
                 session: SessionDep) -> dict:
    await _scoped(session, incident_id, principal)
    return _out(await review.verify(session, incident_id=incident_id, actor=_actor(principal), note=body.note))


@router.post("/{incident_id}/rework")
async def rework(incident_id: Id64, body: ReworkIn, principal: Operator,
                 session: SessionDep) -> dict:
    await _scoped(session, incident_id, principal)
    return _out(await review.rework(session, incident_id=incident_id, actor=_actor(principal), reason=body.reason,
                                    order_ids=body.order_ids))


@router.post("/{incident_id}/close")
async def close(incident_id: Id64, body: NoteIn, principal: Operator,
                session: SessionDep) -> dict:
    await _scoped(session, incident_id, principal)
    return _out(await review.close(session, incident_id=incident_id, actor=_actor(principal), note=body.note))


@router.post("/{incident_id}/callback", status_code=201)
async def phone_callback(incident_id: Id64, body: CallbackIn, principal: Operator,
                         session: SessionDep,
                         settings: SettingsDep) -> dict:
    incident = await _scoped(session, incident_id, principal)
    cb = await callbacks.rate(session, incident_id=incident_id, rating=body.rating, via="phone",
                              actor=_actor(principal), tz=ZoneInfo(settings.timezone), comment=body.comment,
                              reopen=body.reopen)
    return {"id": cb.id, "rating": cb.rating, "reopened": cb.reopened, "incident": _out(incident)}


@router.post("/{incident_id}/transfer")
async def move_jurisdiction(incident_id: Id64, body: TransferIn, principal: Operator,
                            session: SessionDep) -> dict:
    await _scoped(session, incident_id, principal)
    return _out(await transfer.transfer(session, incident_id=incident_id, region_code=body.region_code,
                                        principal=principal, reason=body.reason))


@router.post("/{incident_id}/merge")
async def merge(incident_id: Id64, body: MergeIn, principal: Operator,
                session: SessionDep) -> dict:
    await _scoped(session, incident_id, principal)
    await _scoped(session, body.into_id, principal)
    incident = await duplicates.merge(session, incident_id=incident_id, into_id=body.into_id,
                                      actor=_actor(principal), reason=body.reason)
    return _out(incident) | {"merged_into_id": incident.merged_into_id}


@router.post("/{incident_id}/supervise", status_code=201)
async def supervise(incident_id: Id64, body: ReasonIn, principal: Operator,
                    session: SessionDep) -> dict:
    """督办 by a person: the supervision.raised event, the most urgent open deadline at level >= 1."""
    event = await supervision.supervise(session, incident_id=incident_id, principal=principal, reason=body.reason)
    return {"event_id": event.id, "kind": event.kind, "reason": event.reason,
            "supervision": (event.payload or {}).get("supervision"), "deadline": (event.payload or {}).get("deadline")}


@router.post("/{incident_id}/suspend")
async def suspend(incident_id: Id64, body: ReasonIn, principal: Operator, session: SessionDep) -> dict:
    """挂账: parked with a reason; 409 where the lifecycle does not allow it."""
    return _out(await disposition.suspend(session, incident_id=incident_id, principal=principal, reason=body.reason))


@router.post("/{incident_id}/cancel")
async def cancel(incident_id: Id64, body: ReasonIn, principal: Operator, session: SessionDep) -> dict:
    """作废: ends as cancelled, offered and department orders withdrawn; 409 with a worker's order in hand."""
    return _out(await disposition.cancel(session, incident_id=incident_id, principal=principal, reason=body.reason))


@router.post("/{incident_id}/escalate", status_code=201)
async def escalate(incident_id: Id64, body: ReasonIn, principal: Operator, session: SessionDep) -> dict:
    """上报上级: the `incident.escalated` event naming the region one level above; 409 above the top or once ended."""
    event = await disposition.escalate(session, incident_id=incident_id, principal=principal, reason=body.reason)
    return {"event_id": event.id, "kind": event.kind, "reason": event.reason,
            "escalation": (event.payload or {}).get("escalation")}


@router.post("/{incident_id}/duplicates/{other_id}/dismiss", status_code=204)
async def dismiss(incident_id: Id64, other_id: Id64, principal: Operator,
                  session: SessionDep) -> None:
    await _scoped(session, incident_id, principal)
    await duplicates.dismiss(session, incident_id=incident_id, other_id=other_id, actor=_actor(principal))


@router.get("/{incident_id}/deadlines")
async def deadlines(incident_id: Id64, principal: Operator,
                    session: SessionDep) -> dict:
    await _scoped(session, incident_id, principal)
    rows = await session.scalars(select(Deadline).where(Deadline.incident_id == incident_id).order_by(Deadline.id))
    return {"deadlines": [
        {"id": d.id, "kind": d.kind, "order_id": d.order_id, "due_at": iso(d.due_at), "remind_at": iso(d.remind_at),
         "reminded_at": iso(d.reminded_at), "overdue_at": iso(d.overdue_at), "met_at": iso(d.met_at),
         "supervision_level": d.supervision_level} for d in rows]}


@router.get("/{incident_id}/tracking-link")
async def tracking_link(incident_id: Id64, principal: Operator,
                        session: SessionDep,
                        settings: SettingsDep) -> dict:
    """What the operator reads out or texts to the resident (e.g. after a hotline call)."""
    incident = await _scoped(session, incident_id, principal)
    token = tracking_token(settings.secret_key, incident.public_id)
    return {"public_id": str(incident.public_id), "token": token,
            "url": tracking_page(incident.public_id, token)}
