"""The operator's closed-loop actions on an incident: /api/v1/incidents/{id}/…

Department work orders (联办件: lead + supporting), on-the-spot resolution (即办件/答复件), check (核查),
rework (返工), close (结案), phone callback (回访), jurisdiction transfer, duplicate merge/dismiss,
its deadlines and the resident's tracking link."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from command import callbacks, duplicates, review, supervision, transfer, work_orders
from command.errors import NotFound
from command.events import Actor
from command.loop_models import Deadline
from command.models import Incident
from command.scoping import ensure_incident
from command.security import Principal
from command.settings import Settings
from command.summaries import incident_summary, iso
from command.tracking import tracking_token
from web.api.dept import order_out
from web.deps import get_session, get_settings, require_roles

router = APIRouter(prefix="/api/v1/incidents", tags=["closed loop"])
Operator = require_roles("operator", "supervisor")


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DepartmentsIn(_Body):
    lead: str = Field(min_length=1, max_length=64)
    supports: list[str] = Field(default_factory=list, max_length=20)
    due_at: datetime | None = None
    support_due_at: dict[str, datetime] = Field(default_factory=dict)
    item_type: Literal["immediate", "promise", "joint", "answer"] | None = None


class NoteIn(_Body):
    note: str | None = Field(None, max_length=4000)


class RequiredNoteIn(_Body):
    note: str = Field(min_length=1, max_length=4000)


class ReworkIn(_Body):
    reason: str = Field(min_length=1, max_length=4000)
    order_ids: list[int] = Field(default_factory=list, max_length=50)


class CallbackIn(_Body):
    rating: Literal["satisfied", "basically_satisfied", "dissatisfied"]
    comment: str | None = Field(None, max_length=1000)
    reopen: bool = True


class TransferIn(_Body):
    region_code: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=1, max_length=4000)


class SuperviseIn(_Body):
    reason: str = Field(min_length=1, max_length=4000)


class MergeIn(_Body):
    into_id: int
    reason: str | None = Field(None, max_length=4000)


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
async def assign(incident_id: int, body: DepartmentsIn, principal: Principal = Depends(Operator),
                 session: AsyncSession = Depends(get_session), settings: Settings = Depends(get_settings)) -> dict:
    incident = await _scoped(session, incident_id, principal)
    if body.item_type:
        await work_orders.set_item_type(session, incident=incident, item_type=body.item_type)
    orders = await work_orders.assign_departments(
        session, incident_id=incident_id, lead=body.lead, supports=body.supports, actor=_actor(principal),
        tz=ZoneInfo(settings.timezone), due_at=body.due_at, support_due_at=body.support_due_at)
    return {"incident": _out(incident), "orders": [order_out(o) for o in orders]}


@router.post("/{incident_id}/on-the-spot")
async def on_the_spot(incident_id: int, body: RequiredNoteIn, principal: Principal = Depends(Operator),
                      session: AsyncSession = Depends(get_session)) -> dict:
    await _scoped(session, incident_id, principal)
    return _out(await review.resolve_on_the_spot(session, incident_id=incident_id, actor=_actor(principal),
                                                 note=body.note))


@router.post("/{incident_id}/verify")
async def verify(incident_id: int, body: NoteIn, principal: Principal = Depends(Operator),
                 session: AsyncSession = Depends(get_session)) -> dict:
    await _scoped(session, incident_id, principal)
    return _out(await review.verify(session, incident_id=incident_id, actor=_actor(principal), note=body.note))


@router.post("/{incident_id}/rework")
async def rework(incident_id: int, body: ReworkIn, principal: Principal = Depends(Operator),
                 session: AsyncSession = Depends(get_session)) -> dict:
    await _scoped(session, incident_id, principal)
    return _out(await review.rework(session, incident_id=incident_id, actor=_actor(principal), reason=body.reason,
                                    order_ids=body.order_ids))


@router.post("/{incident_id}/close")
async def close(incident_id: int, body: NoteIn, principal: Principal = Depends(Operator),
                session: AsyncSession = Depends(get_session)) -> dict:
    await _scoped(session, incident_id, principal)
    return _out(await review.close(session, incident_id=incident_id, actor=_actor(principal), note=body.note))


@router.post("/{incident_id}/callback", status_code=201)
async def phone_callback(incident_id: int, body: CallbackIn, principal: Principal = Depends(Operator),
                         session: AsyncSession = Depends(get_session),
                         settings: Settings = Depends(get_settings)) -> dict:
    incident = await _scoped(session, incident_id, principal)
    cb = await callbacks.rate(session, incident_id=incident_id, rating=body.rating, via="phone",
                              actor=_actor(principal), tz=ZoneInfo(settings.timezone), comment=body.comment,
                              reopen=body.reopen)
    return {"id": cb.id, "rating": cb.rating, "reopened": cb.reopened, "incident": _out(incident)}


@router.post("/{incident_id}/transfer")
async def move_jurisdiction(incident_id: int, body: TransferIn, principal: Principal = Depends(Operator),
                            session: AsyncSession = Depends(get_session)) -> dict:
    await _scoped(session, incident_id, principal)
    return _out(await transfer.transfer(session, incident_id=incident_id, region_code=body.region_code,
                                        principal=principal, reason=body.reason))


@router.post("/{incident_id}/merge")
async def merge(incident_id: int, body: MergeIn, principal: Principal = Depends(Operator),
                session: AsyncSession = Depends(get_session)) -> dict:
    await _scoped(session, incident_id, principal)
    await _scoped(session, body.into_id, principal)
    incident = await duplicates.merge(session, incident_id=incident_id, into_id=body.into_id,
                                      actor=_actor(principal), reason=body.reason)
    return _out(incident) | {"merged_into_id": incident.merged_into_id}


@router.post("/{incident_id}/supervise", status_code=201)
async def supervise(incident_id: int, body: SuperviseIn, principal: Principal = Depends(Operator),
                    session: AsyncSession = Depends(get_session)) -> dict:
    """督办 by a person: the supervision.raised event, the most urgent open deadline at level >= 1."""
    event = await supervision.supervise(session, incident_id=incident_id, principal=principal, reason=body.reason)
    return {"event_id": event.id, "kind": event.kind, "reason": event.reason,
            "supervision": (event.payload or {}).get("supervision"), "deadline": (event.payload or {}).get("deadline")}


@router.post("/{incident_id}/duplicates/{other_id}/dismiss", status_code=204)
async def dismiss(incident_id: int, other_id: int, principal: Principal = Depends(Operator),
                  session: AsyncSession = Depends(get_session)) -> None:
    await _scoped(session, incident_id, principal)
    await duplicates.dismiss(session, incident_id=incident_id, other_id=other_id, actor=_actor(principal))


@router.get("/{incident_id}/deadlines")
async def deadlines(incident_id: int, principal: Principal = Depends(Operator),
                    session: AsyncSession = Depends(get_session)) -> dict:
    await _scoped(session, incident_id, principal)
    rows = await session.scalars(select(Deadline).where(Deadline.incident_id == incident_id).order_by(Deadline.id))
    return {"deadlines": [
        {"id": d.id, "kind": d.kind, "order_id": d.order_id, "due_at": iso(d.due_at), "remind_at": iso(d.remind_at),
         "reminded_at": iso(d.reminded_at), "overdue_at": iso(d.overdue_at), "met_at": iso(d.met_at),
         "supervision_level": d.supervision_level} for d in rows]}


@router.get("/{incident_id}/tracking-link")
async def tracking_link(incident_id: int, principal: Principal = Depends(Operator),
                        session: AsyncSession = Depends(get_session),
                        settings: Settings = Depends(get_settings)) -> dict:
    """What the operator reads out or texts to the resident (e.g. after a hotline call)."""
    incident = await _scoped(session, incident_id, principal)
    token = tracking_token(settings.secret_key, incident.public_id)
    return {"public_id": str(incident.public_id), "token": token,
            "url": f"/api/v1/track/{incident.public_id}?token={token}"}
