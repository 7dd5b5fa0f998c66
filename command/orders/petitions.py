"""Petitions (信访, issue 15 item 5): the legal steps of one petition and who may see its petitioner.

A petition is an incident of channel and category `petition` (stored, located and dispatched by intake) plus a
`petitions` row that carries its steps. Limits in working days (command.deadlines.workdays), counted from the day the
petition was received (a letter's receipt date, or today for a visit):
- 受理告知 (acceptance notice): the category's `respond` limit, 3 working days by default;
- 办理 and 答复 (handling and the reply letter): its `resolve` limit, 15 working days, extended once with a reason;
- 复查 (review) after a 不满意 answer: `petition_review_workdays` from the answer.
The incident's own deadlines follow (met when the step is done, moved by an extension or a review), so the
scheduler's reminders and supervision see the same dates.

Petitioners are sensitive: their name and phone are read only by petition staff (users.petition_role = staff) in
scope and by the case's own leader (领导包案)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from command.core.clock import utcnow
from command.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from command.core.events import Actor, append_event
from command.core.models import Deadline, Incident, Petition, User
from command.core.scoping import ensure_incident, region_in_scope
from command.core.security import Principal
from command.core.summaries import iso
from command.deadlines.deadlines import move_resolve
from command.deadlines.rules import PETITION_CATEGORY, calendar_for, limit_for

PETITION_CHANNEL = "petition"
FORMS = ("visit", "letter", "phone", "online")
DEFAULT_NOTICE_WORKDAYS = 3
DEFAULT_REPLY_WORKDAYS = 15


@dataclass(frozen=True, slots=True)
class Duty:
    """The caller's petition duty, read from their account (not the token: a flag may change at any time)."""

    principal: Principal
    petition_role: str | None

    @property
    def staff(self) -> bool:
        return self.principal.role == "admin" or self.petition_role == "staff"


async def duty_of(session: AsyncSession, principal: Principal) -> Duty:
    role = await session.scalar(select(User.petition_role).where(User.id == principal.user_id))
    return Duty(principal, role)


def sees_petitioner(duty: Duty, petition: Petition | None, incident: Incident) -> bool:
    """Petition staff in scope, or the case's own leader."""
    if petition is not None and petition.leader_user_id == duty.principal.user_id:
        return True
    return duty.staff and region_in_scope(duty.principal, incident.region_path or [])


async def reporter_visible(session: AsyncSession, principal: Principal, incident: Incident) -> bool:
    """For incident reads: is this a petition whose petitioner the caller may not see? (True: may see.)"""
    if incident.channel != PETITION_CHANNEL and incident.category_code != PETITION_CATEGORY:
        return True
    petition = await session.get(Petition, incident.id)
    return sees_petitioner(await duty_of(session, principal), petition, incident)


def _workdays(limit: Any, default: int) -> int:
    return limit.limit_workdays if limit is not None and limit.limit_workdays is not None else default


async def _due(session: AsyncSession, incident: Incident, start: datetime, workdays: int, tz: ZoneInfo) -> datetime:
    calendar = await calendar_for(session, incident.region_path or [])
    return calendar.add_workdays(start, workdays, tz)


async def register(session: AsyncSession, *, principal: Principal, incident: Incident, form: str,
                   received_at: datetime | None, tz: ZoneInfo) -> Petition:
    """The petition row of a just-stored petition incident (registered on the spot, 当场登记)."""
    if form not in FORMS:
        raise InvalidInput(f"unknown form {form!r}", details=[{"field": "form", "reason": "unknown"}])
    now = utcnow()
    start = received_at or now
    path = incident.region_path or []
    notice = await limit_for(session, kind="respond", category_code=PETITION_CATEGORY, region_path=path,
                             channel=PETITION_CHANNEL)
    reply = await limit_for(session, kind="resolve", category_code=PETITION_CATEGORY, region_path=path,
                            channel=PETITION_CHANNEL)
    petition = Petition(
        incident_id=incident.id, state="registered", form=form, registered_at=start, registered_by=principal.user_id,
        notice_due_at=await _due(session, incident, start, _workdays(notice, DEFAULT_NOTICE_WORKDAYS), tz),
        reply_due_at=await _due(session, incident, start, _workdays(reply, DEFAULT_REPLY_WORKDAYS), tz))
    session.add(petition)
    # The incident's own deadlines count from the same day as the petition's.
    incident.respond_due_at = petition.notice_due_at
    await session.execute(update(Deadline).where(
        Deadline.incident_id == incident.id, Deadline.kind == "respond", Deadline.order_id.is_(None),
        Deadline.met_at.is_(None)).values(due_at=petition.notice_due_at))
    if incident.resolve_due_at != petition.reply_due_at:
        await move_resolve(session, incident=incident, order=None, due_at=petition.reply_due_at)
    await append_event(session, kind="petition.registered", actor=_actor(principal), incident=incident,
                       payload={"form": form, "registered_at": iso(start),
                                "notice_due_at": iso(petition.notice_due_at),
                                "reply_due_at": iso(petition.reply_due_at)})
    return petition


def _actor(principal: Principal) -> Actor:
    return Actor(principal.username, principal.user_id)


async def _load(session: AsyncSession, principal: Principal, incident_id: int,
                *, lock: bool = True) -> tuple[Petition, Incident]:
    q = select(Petition).where(Petition.incident_id == incident_id)
    petition = await session.scalar(q.with_for_update() if lock else q)
    incident = await session.get(Incident, incident_id)
    if petition is None or incident is None:
        raise NotFound(f"petition {incident_id} not found")
    return petition, incident


async def for_staff(session: AsyncSession, principal: Principal, incident_id: int) -> tuple[Petition, Incident, Duty]:
    """A petition the caller handles as petition staff (in their region)."""
    petition, incident = await _load(session, principal, incident_id)
    duty = await duty_of(session, principal)
    if not duty.staff:
        raise Forbidden("only petition staff (信访工作人员) may do this")
    ensure_incident(principal, incident)
    return petition, incident, duty


async def for_handler(session: AsyncSession, principal: Principal,
                      incident_id: int) -> tuple[Petition, Incident, Duty]:
    """A petition the caller handles: petition staff in scope or its own leader."""
    petition, incident = await _load(session, principal, incident_id)
    duty = await duty_of(session, principal)
    if petition.leader_user_id != principal.user_id:
        if not duty.staff:
            raise Forbidden("only petition staff or the case's leader may do this")
        ensure_incident(principal, incident)
    return petition, incident, duty


def _state(petition: Petition, *allowed: str) -> None:
    if petition.state not in allowed:
        raise Conflict(f"petition {petition.incident_id} is {petition.state}; this needs {' or '.join(allowed)}",
                       details={"state": petition.state})


async def _meet(session: AsyncSession, incident: Incident, *kinds: str) -> None:
    await session.execute(update(Deadline).where(
        Deadline.incident_id == incident.id, Deadline.order_id.is_(None), Deadline.kind.in_(kinds),
        Deadline.met_at.is_(None)).values(met_at=utcnow(), next_escalation_at=None))


async def send_notice(session: AsyncSession, *, principal: Principal, incident_id: int, text: str) -> Petition:
    """受理告知: the petitioner is told the petition is accepted (staff)."""
    petition, incident, _ = await for_staff(session, principal, incident_id)
    _state(petition, "registered")
    petition.state, petition.noticed_at, petition.notice_text = "noticed", utcnow(), text
    await _meet(session, incident, "respond")
    await append_event(session, kind="petition.noticed", actor=_actor(principal), incident=incident,
                       reason=text, payload={"late": petition.noticed_at > petition.notice_due_at})
    return petition


async def assign_leader(session: AsyncSession, *, principal: Principal, incident_id: int,
                        leader_user_id: int) -> Petition:
    """领导包案: a leader (users.petition_role = leader, active, whose region covers the case) takes the petition."""
    petition, incident, _ = await for_staff(session, principal, incident_id)
    _state(petition, "registered", "noticed", "reviewing")
    leader = await session.get(User, leader_user_id)
    if leader is None or not leader.active or leader.petition_role != "leader":
        raise InvalidInput(f"user {leader_user_id} is not an active petition leader",
                           details=[{"field": "leader_user_id", "reason": "not a leader"}])
    if leader.region_code and leader.region_code not in (incident.region_path or []):
        raise InvalidInput(f"leader {leader.username} serves another region",
                           details=[{"field": "leader_user_id", "reason": "outside the leader's region"}])
    petition.leader_user_id, petition.leader_assigned_at = leader.id, utcnow()
    await append_event(session, kind="petition.leader", actor=_actor(principal), incident=incident,
                       payload={"leader_user_id": leader.id, "leader": leader.display_name})
    return petition


async def extend(session: AsyncSession, *, principal: Principal, incident_id: int, workdays: int, reason: str,
                 max_workdays: int, tz: ZoneInfo) -> Petition:
    """延期: once, with a reason, before the reply; the reply deadline moves by working days."""
    petition, incident, _ = await for_handler(session, principal, incident_id)
    _state(petition, "registered", "noticed")
    if petition.extended_at is not None:
        raise Conflict(f"petition {incident_id} was already extended once", details={"extended_at":
                                                                                     iso(petition.extended_at)})
    if not 1 <= workdays <= max_workdays:
        raise InvalidInput(f"an extension is 1..{max_workdays} working days",
                           details=[{"field": "workdays", "reason": f"1..{max_workdays}"}])
    petition.reply_due_at = await _due(session, incident, petition.reply_due_at, workdays, tz)
    petition.extended_at, petition.extension_workdays, petition.extension_reason = utcnow(), workdays, reason
    await move_resolve(session, incident=incident, order=None, due_at=petition.reply_due_at)
    await append_event(session, kind="petition.extended", actor=_actor(principal), incident=incident, reason=reason,
                       payload={"workdays": workdays, "reply_due_at": iso(petition.reply_due_at)})
    return petition


async def reply(session: AsyncSession, *, principal: Principal, incident_id: int, text: str) -> Petition:
    """答复意见: the reply letter, recorded by staff or the leader, after the acceptance notice."""
    petition, incident, _ = await for_handler(session, principal, incident_id)
    if petition.state == "reviewing":
        petition.state, petition.reviewed_at, petition.review_text = "closed", utcnow(), text
        await _meet(session, incident, "resolve", "feedback")
        await append_event(session, kind="petition.reviewed", actor=_actor(principal), incident=incident,
                           reason=text, payload={"late": petition.reviewed_at > (petition.review_due_at
                                                                                  or petition.reviewed_at)})
        return petition
    _state(petition, "noticed")
    petition.state, petition.replied_at, petition.reply_text = "replied", utcnow(), text
    petition.replied_by = principal.user_id
    await _meet(session, incident, "resolve", "feedback")
    await append_event(session, kind="petition.replied", actor=_actor(principal), incident=incident, reason=text,
                       payload={"late": petition.replied_at > petition.reply_due_at})
    return petition


async def answer(session: AsyncSession, *, principal: Principal, incident_id: int, satisfied: bool,
                 reason: str | None, review_workdays: int, tz: ZoneInfo) -> Petition:
    """The petitioner's answer to the reply, recorded by staff: 满意 closes it; 不满意 opens the review (复查)."""
    petition, incident, _ = await for_staff(session, principal, incident_id)
    _state(petition, "replied")
    if not satisfied and not reason:
        raise InvalidInput("a 不满意 answer needs the petitioner's reason",
                           details=[{"field": "reason", "reason": "required when not satisfied"}])
    now = utcnow()
    petition.satisfied, petition.answered_at = satisfied, now
    if satisfied:
        petition.state = "closed"
    else:
        petition.state, petition.review_reason = "reviewing", reason
        petition.review_due_at = await _due(session, incident, now, review_workdays, tz)
        await move_resolve(session, incident=incident, order=None, due_at=petition.review_due_at)
    await append_event(session, kind="petition.answered", actor=_actor(principal), incident=incident, reason=reason,
                       payload={"satisfied": satisfied, "review_due_at": iso(petition.review_due_at)})
    return petition


def petition_dict(petition: Petition, incident: Incident, *, petitioner: bool,
                  leader_name: str | None = None) -> dict[str, Any]:
    p = petition
    out: dict[str, Any] = {
        "incident_id": incident.id, "public_id": str(incident.public_id), "state": p.state, "form": p.form,
        "description": incident.description, "region_code": incident.region_code, "status": incident.status,
        "registered_at": iso(p.registered_at), "notice_due_at": iso(p.notice_due_at), "noticed_at": iso(p.noticed_at),
        "notice_text": p.notice_text, "leader_user_id": p.leader_user_id, "leader": leader_name,
        "leader_assigned_at": iso(p.leader_assigned_at), "reply_due_at": iso(p.reply_due_at),
        "extended_at": iso(p.extended_at), "extension_workdays": p.extension_workdays,
        "extension_reason": p.extension_reason, "replied_at": iso(p.replied_at), "reply_text": p.reply_text,
        "satisfied": p.satisfied, "answered_at": iso(p.answered_at), "review_due_at": iso(p.review_due_at),
        "review_reason": p.review_reason, "reviewed_at": iso(p.reviewed_at), "review_text": p.review_text,
    }
    if petitioner:
        out["petitioner"] = {"name": incident.reporter_name, "phone": incident.reporter_phone}
    return out
