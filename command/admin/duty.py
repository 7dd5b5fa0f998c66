"""The duty roster (值班表) and shift handovers (交接班) of a command centre.

A centre is its region: the operators of one region share a roster and a handover book (the top centre, with no
region, has its own). A handover note is written by the outgoing operator and addressed to the next operator on
duty (the roster's shift that covers the moment after, or the one named); that operator, or any of the centre's
operators when none was rostered, signs it (签收) once. Nothing is deleted: the book is the history."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from command.admin.comms_scope import sender_path
from command.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from command.core.events import Actor, append_event
from command.core.models import DutyShift, Handover, User
from command.core.security import Principal

MAX_SHIFT = timedelta(hours=24)
CENTRE_ROLES = ("operator", "supervisor", "admin")


def _centre(column: Any, principal: Principal) -> Any:
    """Rows of the caller's centre: same region (both None for the top centre)."""
    return column.is_not_distinct_from(principal.region_code)


async def add_shift(session: AsyncSession, principal: Principal, *, username: str, starts_at: datetime,
                    ends_at: datetime) -> DutyShift:
    """Put an operator of the caller's centre on the roster for one shift (at most 24 hours, not overlapping
    another shift of theirs)."""
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise InvalidInput("a shift's times need their UTC offset, e.g. 2026-12-07T08:00:00+08:00")
    if ends_at <= starts_at or ends_at - starts_at > MAX_SHIFT:
        raise InvalidInput("a shift ends after it starts, within 24 hours")
    user = await session.scalar(select(User).where(User.username == username, User.active))
    if user is None or user.role not in CENTRE_ROLES or user.region_code != principal.region_code:
        raise InvalidInput(f"{username!r} is not an operator of your command centre")
    overlap = await session.scalar(select(DutyShift.id).where(
        DutyShift.user_id == user.id, DutyShift.starts_at < ends_at, DutyShift.ends_at > starts_at))
    if overlap is not None:
        raise Conflict(f"{username} already has a shift then (shift {overlap})")
    shift = DutyShift(region_code=principal.region_code, user_id=user.id, starts_at=starts_at, ends_at=ends_at,
                      created_by=principal.user_id)
    session.add(shift)
    await session.flush()
    return shift


async def roster(session: AsyncSession, principal: Principal, *, start: datetime, end: datetime
                 ) -> list[dict[str, Any]]:
    """The centre's shifts overlapping [start, end), in order, with who and whether on duty now."""
    rows = (await session.execute(
        select(DutyShift, User.username, User.display_name, User.phone, func.now())
        .join(User, User.id == DutyShift.user_id)
        .where(_centre(DutyShift.region_code, principal), DutyShift.starts_at < end, DutyShift.ends_at > start)
        .order_by(DutyShift.starts_at, User.username))).all()
    return [{"id": s.id, "username": u, "name": n, "phone": p, "starts_at": s.starts_at, "ends_at": s.ends_at,
             "now": s.starts_at <= now < s.ends_at} for s, u, n, p, now in rows]


async def next_on_duty(session: AsyncSession, principal: Principal) -> User | None:
    """Who takes over from the caller: the other operator whose shift starts next, else one on duty now."""
    row = await session.scalar(
        select(User).join(DutyShift, DutyShift.user_id == User.id)
        .where(_centre(DutyShift.region_code, principal), DutyShift.user_id != principal.user_id,
               DutyShift.ends_at > func.now(), User.active)
        .order_by(DutyShift.starts_at <= func.now(), DutyShift.starts_at).limit(1))
    return row


async def write_handover(session: AsyncSession, principal: Principal, *, note: str,
                         to_username: str | None = None) -> Handover:
    """The outgoing operator's note, addressed to `to_username` or else the next operator on duty."""
    if to_username:
        to = await session.scalar(select(User).where(User.username == to_username, User.active))
        if to is None or to.role not in CENTRE_ROLES or to.region_code != principal.region_code:
            raise InvalidInput(f"{to_username!r} is not an operator of your command centre")
    else:
        to = await next_on_duty(session, principal)
    if to is not None and to.id == principal.user_id:
        raise InvalidInput("a handover goes to another operator")
    handover = Handover(region_code=principal.region_code, from_user_id=principal.user_id,
                        to_user_id=to.id if to else None, note=note)
    session.add(handover)
    await session.flush()
    await _announce(session, principal, "duty.handover", handover)
    return handover


async def _announce(session: AsyncSession, principal: Principal, kind: str, handover: Handover) -> None:
    # Routed to the centre's region chain: its consoles watch it (the top centre's watch everything).
    await append_event(session, kind=kind, actor=Actor(name=principal.username, user_id=principal.user_id),
                       payload={"handover_id": handover.id, "to_user_id": handover.to_user_id},
                       route=(await sender_path(session, principal), None, None))


async def sign(session: AsyncSession, principal: Principal, *, handover_id: int, note: str | None) -> Handover:
    """The incoming operator signs the note; once (409 after), never their own, never one addressed to another."""
    handover = await session.get(Handover, handover_id, with_for_update=True)
    if handover is None or handover.region_code != principal.region_code:
        raise NotFound(f"no handover {handover_id} in your command centre")
    if handover.from_user_id == principal.user_id:
        raise Forbidden("the next operator signs a handover, not the one who wrote it")
    if handover.to_user_id is not None and handover.to_user_id != principal.user_id:
        raise Forbidden(f"handover {handover_id} is addressed to another operator")
    if handover.signed_at is not None:
        raise Conflict(f"handover {handover_id} was already signed")
    handover.signed_by, handover.sign_note = principal.user_id, note
    handover.signed_at = await session.scalar(select(func.now()))
    await session.flush()
    await _announce(session, principal, "duty.signed", handover)
    return handover


_BOOK = """
SELECT h.id, h.note, h.created_at, h.signed_at, h.sign_note, f.username AS from_username, f.display_name AS from_name,
       t.username AS to_username, t.display_name AS to_name, s.username AS signed_username,
       s.display_name AS signed_name
  FROM handovers h JOIN users f ON f.id = h.from_user_id LEFT JOIN users t ON t.id = h.to_user_id
  LEFT JOIN users s ON s.id = h.signed_by
 WHERE h.region_code IS NOT DISTINCT FROM :centre {extra}
 ORDER BY h.id DESC LIMIT :limit"""


async def handovers(session: AsyncSession, principal: Principal, *, pending: bool = False, limit: int = 50,
                    handover_id: int | None = None) -> list[dict[str, Any]]:
    """The centre's handover book, newest first; `pending`: the unsigned ones the caller is to sign."""
    extra = ("AND h.signed_at IS NULL AND h.from_user_id <> :me AND (h.to_user_id IS NULL OR h.to_user_id = :me)"
             if pending else "")
    if handover_id is not None:
        extra += " AND h.id = :id"
    rows = await session.execute(text(_BOOK.format(extra=extra)), {
        "centre": principal.region_code, "me": principal.user_id, "limit": limit, "id": handover_id})
    return [dict(r) for r in rows.mappings()]
