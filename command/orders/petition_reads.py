"""Reading petitions: the petition staff's list, a leader's own queue (领导包案), one petition, the leaders a case
can be given to. The petitioner's name and phone go only to staff in scope and the case's leader, and every such
reading is recorded (reporter_views, as incident reads do)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from command.core.errors import Forbidden, NotFound
from command.core.logctx import REQUEST_ID
from command.core.models import Incident, Petition, ReporterView, User
from command.core.routing import codes
from command.core.scoping import scope_region
from command.core.security import Principal
from command.orders.petitions import Duty, duty_of, petition_dict, sees_petitioner

MAX_LIST = 200


def _record(session: AsyncSession, principal: Principal, incident: Incident, via: str) -> None:
    if incident.reporter_name or incident.reporter_phone:  # PIPL: every reading of them is on record
        session.add(ReporterView(user_id=principal.user_id, username=principal.username, role=principal.role,
                                 incident_id=incident.id, via=via, request_id=REQUEST_ID.get()))


async def _leader_names(session: AsyncSession, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await session.execute(select(User.id, User.display_name).where(User.id.in_(ids)))
    return {int(r[0]): str(r[1]) for r in rows}


async def list_petitions(session: AsyncSession, principal: Principal, *, mine: bool,
                         state: str | None) -> list[dict[str, Any]]:
    """Staff: every petition in their region; a leader (or anyone with mine=true): the ones they are given."""
    duty = await duty_of(session, principal)
    q = select(Petition, Incident).join(Incident, Incident.id == Petition.incident_id)
    if mine or not duty.staff:
        if duty.petition_role != "leader" and not duty.staff:
            raise Forbidden("only petition staff and petition leaders read petitions")
        q = q.where(Petition.leader_user_id == principal.user_id)
    elif (region := scope_region(principal)) is not None:
        q = q.where(Incident.region_path.op("@>")(codes([region])))
    if state is not None:
        q = q.where(Petition.state == state)
    rows = (await session.execute(q.order_by(Petition.reply_due_at, Petition.incident_id).limit(MAX_LIST))).all()
    names = await _leader_names(session, {p.leader_user_id for p, _ in rows if p.leader_user_id})
    out = []
    for petition, incident in rows:
        shown = sees_petitioner(duty, petition, incident)
        if shown:
            _record(session, principal, incident, "petition_list")
        out.append(petition_dict(petition, incident, petitioner=shown,
                                 leader_name=names.get(petition.leader_user_id or 0)))
    return out


async def visible_petition(session: AsyncSession, principal: Principal,
                           incident_id: int) -> tuple[Petition, Incident, Duty]:
    petition = await session.get(Petition, incident_id)
    incident = await session.get(Incident, incident_id)
    if petition is None or incident is None:
        raise NotFound(f"petition {incident_id} not found")
    duty = await duty_of(session, principal)
    if not sees_petitioner(duty, petition, incident):
        if duty.staff or duty.petition_role == "leader":
            raise NotFound(f"petition {incident_id} not found")  # outside their region, or another leader's
        raise Forbidden("only petition staff and the case's leader read a petition")
    return petition, incident, duty


async def petition_detail(session: AsyncSession, principal: Principal, incident_id: int) -> dict[str, Any]:
    petition, incident, _ = await visible_petition(session, principal, incident_id)
    _record(session, principal, incident, "petition_detail")
    names = await _leader_names(session, {petition.leader_user_id} if petition.leader_user_id else set())
    return petition_dict(petition, incident, petitioner=True, leader_name=names.get(petition.leader_user_id or 0))


async def leaders(session: AsyncSession, principal: Principal) -> list[dict[str, Any]]:
    """The active petition leaders a staff member may give a case to (assignment checks the case's region)."""
    duty = await duty_of(session, principal)
    if not duty.staff:
        raise Forbidden("only petition staff assign leaders")
    rows = await session.scalars(select(User).where(User.petition_role == "leader", User.active.is_(True))
                                 .order_by(User.display_name))
    return [{"id": u.id, "username": u.username, "name": u.display_name, "region_code": u.region_code}
            for u in rows]
