"""A published report (通报) pushed to its subscribers as a notice: the same notices and read receipts as an
operator's (command/admin/notices.py), sent to chosen accounts rather than to workers, departments or regions.
Workers and liaisons get the live push (routed by worker id or department code); every recipient sees it in their
notice list and marks it read."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from command.core.events import Actor, append_event, batched
from command.core.models import Notice, NoticeRecipient

SENDER_NAME = "通报系统 Reports"


async def _sender(session: AsyncSession, released_by: int | None, user_ids: list[int]) -> int | None:
    """Who a notice is from: the supervisor who released it, else the first active admin, else a subscriber."""
    if released_by:
        return released_by
    admin = await session.scalar(text("SELECT id FROM users WHERE role = 'admin' AND active ORDER BY id LIMIT 1"))
    return int(admin) if admin else (user_ids[0] if user_ids else None)


async def push_report(session: AsyncSession, *, user_ids: list[int], title: str, body: str,
                      region_path: list[str], released_by: int | None) -> int | None:
    """Store a notice to these accounts and append the events that push it; the notice id (None: nobody)."""
    if not user_ids:
        return None
    sender = await _sender(session, released_by, user_ids)
    if sender is None:
        return None
    rows = (await session.execute(text(
        "SELECT u.id, u.role, u.department_code, w.id AS worker_id FROM users u "
        "LEFT JOIN workers w ON w.user_id = u.id WHERE u.id = ANY(:ids) AND u.active ORDER BY u.id"),
        {"ids": user_ids})).all()
    if not rows:
        return None
    notice = Notice(title=title[:200], body=body, priority=3, sender_user_id=sender, sender_name=SENDER_NAME,
                    region_path=region_path, targets={"users": [r.id for r in rows]})
    session.add(notice)
    await session.flush()
    seen: set[int] = set()
    for r in rows:
        if r.id in seen:
            continue
        seen.add(r.id)
        session.add(NoticeRecipient(notice_id=notice.id, user_id=r.id, worker_id=r.worker_id,
                                    department_code=r.department_code if r.role == "liaison" else None))
    await session.flush()
    actor = Actor.system("reports")
    payload = {"notice_id": notice.id, "title": notice.title, "priority": 3, "sender": SENDER_NAME}
    async with batched(session):
        for worker_id in sorted({r.worker_id for r in rows if r.worker_id is not None}):
            await append_event(session, kind="notice.sent", actor=actor, payload=payload, route=([], worker_id, None))
        for code in sorted({r.department_code for r in rows if r.role == "liaison" and r.department_code}):
            await append_event(session, kind="notice.sent", actor=actor, payload=payload, route=([], None, code))
    return notice.id
