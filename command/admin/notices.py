"""Notices (通知): an operator sends a title and a body to chosen grid workers, departments (their liaisons) and
regions (the workers of their grids); each recipient sees it on /m or /dept until they mark it read, and the sender
sees who read it and who has not, live.

Delivery rides the event stream: one `notice.sent` event per worker (routed by worker id) and per department
(routed by department code), so the hub's existing indexes reach exactly the recipients' sockets; `notice.read`
is routed by the sender's region chain, where the sender's console (and their centre's) watches."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from command.admin.comms_scope import DEPARTMENT_IN_SCOPE, WORKER_IN_SCOPE, scope_params, sender_path
from command.core.errors import Forbidden, InvalidInput, NotFound
from command.core.events import Actor, append_event, batched
from command.core.models import Notice, NoticeRecipient, User
from command.core.scoping import scope_region
from command.core.security import Principal

MAX_TARGETS = 500  # chosen ids of each kind in one notice


@dataclass(frozen=True, slots=True)
class Targets:
    worker_ids: list[int]
    department_codes: list[str]
    region_codes: list[str]

    def as_json(self) -> dict[str, Any]:
        return {"workers": self.worker_ids, "departments": self.department_codes, "regions": self.region_codes}


_WORKERS = f"""SELECT w.id, w.user_id FROM workers w JOIN users u ON u.id = w.user_id
 WHERE u.active AND w.id = ANY(:ids) AND {WORKER_IN_SCOPE}"""
_DEPARTMENTS = f"SELECT d.code FROM departments d WHERE d.code = ANY(:codes) AND {DEPARTMENT_IN_SCOPE}"
_LIAISONS = "SELECT u.id, u.department_code FROM users u WHERE u.role = 'liaison' AND u.active " \
            "AND u.department_code = ANY(:codes)"
_REGIONS = """SELECT code FROM regions WHERE code = ANY(:codes)
 AND (CAST(:scope AS text) IS NULL OR path @> ARRAY[CAST(:scope AS varchar)])"""
_REGION_WORKERS = """SELECT DISTINCT w.id, w.user_id FROM workers w JOIN users u ON u.id = w.user_id
  JOIN regions r ON r.code = ANY(w.grid_codes)
 WHERE u.active AND r.path && CAST(:codes AS varchar[])"""


async def _rows(session: AsyncSession, sql: str, params: dict[str, Any]) -> list[Any]:
    return list((await session.execute(text(sql), params)).all())


async def send_notice(session: AsyncSession, principal: Principal, *, title: str, body: str, priority: int,
                      targets: Targets) -> Notice:
    """Store the notice and its recipients and append the events that push it. InvalidInput when a chosen worker,
    department or region is unknown or outside the sender's scope, or when the notice would reach nobody."""
    params = await scope_params(session, principal)
    workers = await _rows(session, _WORKERS, {**params, "ids": targets.worker_ids})
    _all_found("worker", targets.worker_ids, [w.id for w in workers])
    departments = [r.code for r in await _rows(session, _DEPARTMENTS, {**params, "codes": targets.department_codes})]
    _all_found("department", targets.department_codes, departments)
    regions = [r.code for r in await _rows(session, _REGIONS, {**params, "codes": targets.region_codes})]
    _all_found("region", targets.region_codes, regions)
    if regions:
        workers += await _rows(session, _REGION_WORKERS, {"codes": regions})
    liaisons = await _rows(session, _LIAISONS, {"codes": departments})
    recipients: dict[int, NoticeRecipient] = {}
    for w in workers:
        recipients.setdefault(w.user_id, NoticeRecipient(user_id=w.user_id, worker_id=w.id))
    for li in liaisons:
        recipients.setdefault(li.id, NoticeRecipient(user_id=li.id, department_code=li.department_code))
    if not recipients:
        raise InvalidInput("the notice reaches nobody: choose workers, departments with liaisons or regions with "
                           "workers")
    sender = await session.get(User, principal.user_id)
    notice = Notice(title=title, body=body, priority=priority, sender_user_id=principal.user_id,
                    sender_name=sender.display_name if sender else principal.username,
                    region_path=await sender_path(session, principal), targets=targets.as_json())
    session.add(notice)
    await session.flush()
    for r in recipients.values():
        r.notice_id = notice.id
    session.add_all(recipients.values())
    actor = Actor(name=principal.username, user_id=principal.user_id)
    payload = {"notice_id": notice.id, "title": title, "priority": priority, "sender": notice.sender_name}
    # One push per recipient: a district-wide notice is hundreds of events, written by one INSERT (`batched`).
    async with batched(session):
        for worker_id in sorted({r.worker_id for r in recipients.values() if r.worker_id is not None}):
            await append_event(session, kind="notice.sent", actor=actor, payload=payload,
                               route=([], worker_id, None))
        for code in sorted({r.department_code for r in recipients.values() if r.department_code is not None}):
            await append_event(session, kind="notice.sent", actor=actor, payload=payload, route=([], None, code))
    return notice


def _all_found(kind: str, asked: list[Any], found: list[Any]) -> None:
    missing = sorted(set(asked) - set(found), key=str)
    if missing:
        raise InvalidInput(f"unknown {kind} or outside your region: {', '.join(map(str, missing[:10]))}")


async def my_notices(session: AsyncSession, principal: Principal, *, unread_only: bool) -> list[dict[str, Any]]:
    """The notices sent to the caller, newest first (unread ones only, when asked)."""
    query = (select(Notice, NoticeRecipient.read_at)
             .join(NoticeRecipient, NoticeRecipient.notice_id == Notice.id)
             .where(NoticeRecipient.user_id == principal.user_id)
             .order_by(Notice.id.desc()).limit(100))
    if unread_only:
        query = query.where(NoticeRecipient.read_at.is_(None))
    return [{**_summary(n), "read_at": read_at} for n, read_at in (await session.execute(query)).all()]


def _summary(n: Notice) -> dict[str, Any]:
    return {"id": n.id, "title": n.title, "body": n.body, "priority": n.priority, "sender": n.sender_name,
            "created_at": n.created_at}


async def mark_read(session: AsyncSession, principal: Principal, *, notice_id: int) -> datetime:
    """Mark the caller's copy read (once; reading again answers the first time) and tell the sender's centre."""
    recipient = await session.get(NoticeRecipient, (notice_id, principal.user_id), with_for_update=True)
    if recipient is None:
        raise NotFound(f"no notice {notice_id} for you")
    if recipient.read_at is not None:
        read_at: datetime = recipient.read_at
        return read_at
    stamp: datetime | None = await session.scalar(
        update(NoticeRecipient).where(NoticeRecipient.notice_id == notice_id,
                                      NoticeRecipient.user_id == principal.user_id)
        .values(read_at=func.now()).returning(NoticeRecipient.read_at))
    assert stamp is not None
    notice = await session.get(Notice, notice_id)
    assert notice is not None
    reader = await session.get(User, principal.user_id)
    await append_event(session, kind="notice.read", actor=Actor(name=principal.username, user_id=principal.user_id),
                       payload={"notice_id": notice_id, "user_id": principal.user_id,
                                "name": reader.display_name if reader else principal.username,
                                "read_at": stamp.isoformat()},
                       route=(list(notice.region_path), None, None))
    return stamp


def _visible(principal: Principal, notice: Notice) -> bool:
    scope = scope_region(principal)
    return notice.sender_user_id == principal.user_id or scope is None or scope in notice.region_path


async def receipts(session: AsyncSession, principal: Principal, *, notice_id: int) -> dict[str, Any]:
    """The notice and every recipient with when they read it (None: not yet)."""
    notice = await session.get(Notice, notice_id)
    if notice is None:
        raise NotFound(f"no notice {notice_id}")
    if not _visible(principal, notice):
        raise Forbidden(f"notice {notice_id} was sent outside your region")
    rows = (await session.execute(text(
        "SELECT r.user_id, u.display_name AS name, u.username, u.phone, r.worker_id, r.department_code, "
        "d.name AS department_name, r.read_at FROM notice_recipients r JOIN users u ON u.id = r.user_id "
        "LEFT JOIN departments d ON d.code = r.department_code WHERE r.notice_id = :id "
        "ORDER BY r.read_at IS NOT NULL, r.read_at, u.display_name"), {"id": notice_id})).mappings()
    people = [dict(r) for r in rows]
    return {**_summary(notice), "targets": notice.targets, "recipients": people,
            "read": sum(1 for p in people if p["read_at"] is not None), "total": len(people)}


async def sent_notices(session: AsyncSession, principal: Principal, *, limit: int = 50) -> list[dict[str, Any]]:
    """Notices sent in the caller's region (their own and their centre's), newest first, with read counts."""
    scope = scope_region(principal)
    rows = (await session.execute(text(
        "SELECT n.id, count(r.user_id) AS total, count(r.read_at) AS read FROM notices n "
        "JOIN notice_recipients r ON r.notice_id = n.id "
        "WHERE CAST(:scope AS text) IS NULL OR n.region_path @> ARRAY[CAST(:scope AS varchar)] "
        "OR n.sender_user_id = :me GROUP BY n.id ORDER BY n.id DESC LIMIT :limit"),
        {"scope": scope, "me": principal.user_id, "limit": limit})).all()
    notices = {n.id: n for n in (await session.scalars(select(Notice).where(
        Notice.id.in_([r.id for r in rows])))).all()}
    return [{**_summary(notices[r.id]), "read": r.read, "total": r.total} for r in rows]
