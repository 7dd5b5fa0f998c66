"""/api/v1/petitions: petitions (信访, issue 15 item 5; command.orders.petitions, docs/petitions.md).

Petition staff (users.petition_role = staff, or an admin) register a petition on the spot, send the acceptance
notice (受理告知), give it to a leader (领导包案), record the reply letter (答复意见) and the petitioner's answer
(满意/不满意 → 复查). The leader sees their own queue (`?mine=true`) and may extend the case once with a reason and
record the reply. The petitioner's name and phone are answered only to staff in scope and the case's leader."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from pydantic import Field

from command.core.clock import utcnow
from command.core.errors import Forbidden, InvalidInput
from command.core.events import Actor
from command.core.models import PETITION_STATES
from command.intake.intake import AlertIn, submit_alert
from command.orders import petition_reads, petitions
from web.deps import CurrentUser, Operator, RedisDep, SessionDep, SettingsDep
from web.openapi_errors import errors
from web.request_models import Body, Reason, WhatAndWhere
from web.request_types import BodyId32, Id32, Instant, Integer, SafeLine, VisibleLine, VisibleText

router = APIRouter(prefix="/api/v1/petitions", tags=["petitions"])

PetitionId = Annotated[Id32, Field(description="the petition's incident id")]
Letter = Annotated[VisibleText, Field(min_length=1, max_length=4000)]


class Petitioner(Body):
    name: VisibleLine = Field(min_length=1, max_length=100)
    phone: SafeLine | None = Field(None, min_length=3, max_length=32)


class PetitionIn(WhatAndWhere):
    category: SafeLine = Field("petition", min_length=1, max_length=64)
    form: Literal["visit", "letter", "phone", "online"] = Field(description="来访 / 来信 / 来电 / 网上")
    petitioner: Petitioner
    received_at: Instant | None = Field(None, description="when the petition was received (a letter's receipt "
                                        "date); the limits count from its day. Default: now; never in the future")


class NoticeIn(Body):
    text: Letter


class LeaderIn(Body):
    leader_user_id: BodyId32


class ExtendIn(Body):
    workdays: Integer = Field(ge=1, le=60)
    reason: Reason


class ReplyIn(Body):
    text: Letter


class AnswerIn(Body):
    satisfied: bool
    reason: Reason | None = None


def _tz(settings: Any) -> ZoneInfo:
    return ZoneInfo(settings.timezone)


async def _out(session: SessionDep, principal: CurrentUser, incident_id: int) -> dict[str, Any]:
    return await petition_reads.petition_detail(session, principal, incident_id)


@router.post("", status_code=201, responses=errors(403))
async def register(body: PetitionIn, principal: Operator, session: SessionDep, redis: RedisDep,
                   settings: SettingsDep) -> dict[str, Any]:
    """Register a petition on the spot (当场登记): stored and located as an incident of channel `petition`, with its
    notice and reply deadlines in working days from the day it was received."""
    duty = await petitions.duty_of(session, principal)
    if not duty.staff:
        raise Forbidden("only petition staff (信访工作人员) register petitions")
    if body.received_at is not None and body.received_at > utcnow():
        raise InvalidInput("received_at is in the future", details=[{"field": "received_at", "reason": "future"}])
    if body.category != "petition" and not body.category.startswith("petition"):
        raise InvalidInput("a petition's category is of the petition family",
                           details=[{"field": "category", "reason": "not petition"}])
    result = await submit_alert(
        session, redis, settings=settings, actor=Actor(principal.username, principal.user_id),
        alert=AlertIn(category=body.category, description=body.description, lon=body.lon, lat=body.lat,
                      channel="petition", crs=body.crs.value, reporter_name=body.petitioner.name,
                      reporter_phone=body.petitioner.phone))
    await petitions.register(session, principal=principal, incident=result.incident, form=body.form,
                             received_at=body.received_at, tz=_tz(settings))
    return await _out(session, principal, result.incident.id)


@router.get("")
async def list_petitions(
    session: SessionDep, principal: CurrentUser,
    mine: Annotated[bool, Query(description="only the petitions given to me (a leader's queue)")] = False,
    state: Annotated[Literal[PETITION_STATES] | None, Query(description="only this state")] = None,  # type: ignore[valid-type]
) -> list[dict[str, Any]]:
    """Staff: the petitions of their region, earliest reply deadline first; a leader: their own (领导包案)."""
    return await petition_reads.list_petitions(session, principal, mine=mine, state=state)


@router.get("/leaders")
async def list_leaders(session: SessionDep, principal: Operator) -> list[dict[str, Any]]:
    """The active petition leaders (for staff assigning a case)."""
    return await petition_reads.leaders(session, principal)


@router.get("/{incident_id}")
async def get_petition(incident_id: PetitionId, session: SessionDep, principal: CurrentUser) -> dict[str, Any]:
    """One petition with its steps and deadlines; the petitioner for staff in scope and its leader."""
    return await _out(session, principal, incident_id)


@router.post("/{incident_id}/notice")
async def notice(incident_id: PetitionId, body: NoticeIn, session: SessionDep, principal: Operator) -> dict[str, Any]:
    """受理告知 (staff): the petitioner is told it is accepted; due within the notice limit."""
    await petitions.send_notice(session, principal=principal, incident_id=incident_id, text=body.text)
    return await _out(session, principal, incident_id)


@router.post("/{incident_id}/leader")
async def leader(incident_id: PetitionId, body: LeaderIn, session: SessionDep, principal: Operator) -> dict[str, Any]:
    """领导包案 (staff): give the petition to a petition leader whose region covers it."""
    await petitions.assign_leader(session, principal=principal, incident_id=incident_id,
                                  leader_user_id=body.leader_user_id)
    return await _out(session, principal, incident_id)


@router.post("/{incident_id}/extend")
async def extend(incident_id: PetitionId, body: ExtendIn, session: SessionDep, principal: CurrentUser,
                 settings: SettingsDep) -> dict[str, Any]:
    """延期 (staff or the leader): once, with a reason, before the reply; the reply deadline moves by working
    days (at most GRIDCMD_PETITION_EXTENSION_MAX_WORKDAYS)."""
    await petitions.extend(session, principal=principal, incident_id=incident_id, workdays=body.workdays,
                           reason=body.reason, max_workdays=settings.petition_extension_max_workdays,
                           tz=_tz(settings))
    return await _out(session, principal, incident_id)


@router.post("/{incident_id}/reply")
async def reply(incident_id: PetitionId, body: ReplyIn, session: SessionDep, principal: CurrentUser) -> dict[str, Any]:
    """答复意见 (staff or the leader): the reply letter after the notice; during a review, the review's answer."""
    await petitions.reply(session, principal=principal, incident_id=incident_id, text=body.text)
    return await _out(session, principal, incident_id)


@router.post("/{incident_id}/answer")
async def answer(incident_id: PetitionId, body: AnswerIn, session: SessionDep, principal: Operator,
                 settings: SettingsDep) -> dict[str, Any]:
    """The petitioner's answer (staff): 满意 closes it; 不满意 (with a reason) opens the review (复查) with its own
    limit (GRIDCMD_PETITION_REVIEW_WORKDAYS working days)."""
    await petitions.answer(session, principal=principal, incident_id=incident_id, satisfied=body.satisfied,
                           reason=body.reason, review_workdays=settings.petition_review_workdays, tz=_tz(settings))
    return await _out(session, principal, incident_id)
