"""/api/v1/contacts and /api/v1/notices: the contact book (通讯录) and notices (通知) with read receipts
(command.admin.contacts, command.admin.notices; docs/comms.md).

Operators (and supervisors, admins) read the contact book of their region and send notices inside it; grid workers
and liaisons list the notices sent to them and mark them read. Sending pushes a `notice.sent` event to each
recipient's socket; reading pushes `notice.read` to the sender's region."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from command.admin import contacts, notices
from web.deps import Assignee, Operator, SessionDep
from web.request_models import Body
from web.request_types import Id32, Integer, SafeLine, VisibleLine, VisibleText

router = APIRouter(tags=["communication"])

NoticeId = Annotated[Id32, Field(description="the notice's id")]


class ContactsOut(BaseModel):
    workers: list[dict[str, Any]]
    departments: list[dict[str, Any]]
    liaisons: list[dict[str, Any]]


@router.get("/api/v1/contacts")
async def contact_book(
    _session: SessionDep, principal: Operator,
    q: Annotated[SafeLine | None, Query(max_length=64, description="matched in names, phones, grids, departments")]
    = None,
    kind: Annotated[Literal["worker", "department", "liaison"] | None, Query(description="only this kind")] = None,
) -> ContactsOut:
    """Workers, departments (duty phone) and liaisons inside the caller's region, at most 200 of each."""
    book = await contacts.contact_book(_session, principal, q=(q or "").strip() or None,
                                       kinds=(kind,) if kind else contacts.KINDS)
    return ContactsOut(workers=book.workers, departments=book.departments, liaisons=book.liaisons)


class NoticeIn(Body):
    title: VisibleLine = Field(min_length=1, max_length=200)
    body: VisibleText = Field(min_length=1, max_length=4000)
    priority: Integer = Field(3, ge=1, le=4, description="1 urgent … 4 low")
    workers: list[Id32] = Field(default_factory=list, max_length=notices.MAX_TARGETS, description="worker ids")
    departments: list[Annotated[SafeLine, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list, max_length=notices.MAX_TARGETS, description="department codes: their liaisons")
    regions: list[Annotated[SafeLine, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list, max_length=notices.MAX_TARGETS, description="region codes: the workers of their grids")


class NoticeOut(BaseModel):
    id: int
    title: str
    body: str
    priority: int
    sender: str
    created_at: datetime | None
    read_at: datetime | None = None
    read: int | None = None
    total: int | None = None


class ReceiptsOut(NoticeOut):
    targets: dict[str, Any]
    recipients: list[dict[str, Any]]


@router.post("/api/v1/notices", status_code=201)
async def send_notice(body: NoticeIn, principal: Operator, session: SessionDep) -> ReceiptsOut:
    """Send a notice to the chosen workers, departments' liaisons and regions' workers, pushed to their sockets.
    422 when one is unknown or outside the caller's region, or when it reaches nobody; nothing is sent then."""
    notice = await notices.send_notice(
        session, principal, title=body.title, body=body.body, priority=body.priority,
        targets=notices.Targets(worker_ids=body.workers, department_codes=body.departments,
                                region_codes=body.regions))
    return ReceiptsOut(**await notices.receipts(session, principal, notice_id=notice.id))


@router.get("/api/v1/notices/sent")
async def sent(session: SessionDep, principal: Operator) -> list[NoticeOut]:
    """Notices sent in the caller's region, newest first, with how many of their recipients read them."""
    return [NoticeOut(**n) for n in await notices.sent_notices(session, principal)]


@router.get("/api/v1/notices/mine")
async def mine(session: SessionDep, principal: Assignee,
               unread: Annotated[bool, Query(description="only the unread ones")] = False) -> list[NoticeOut]:
    """The notices sent to the calling worker or liaison, newest first."""
    return [NoticeOut(**n) for n in await notices.my_notices(session, principal, unread_only=unread)]


@router.get("/api/v1/notices/{notice_id}")
async def notice_receipts(notice_id: NoticeId, session: SessionDep, principal: Operator) -> ReceiptsOut:
    """The notice with every recipient and when they read it (read_at null: not yet). 403 outside the region."""
    return ReceiptsOut(**await notices.receipts(session, principal, notice_id=notice_id))


class ReadOut(BaseModel):
    id: int
    read_at: datetime


@router.post("/api/v1/notices/{notice_id}/read")
async def read(notice_id: NoticeId, session: SessionDep, principal: Assignee) -> ReadOut:
    """Mark the caller's copy read; the sender sees it live. Again: the first time's answer. 404 when the notice
    was not sent to the caller."""
    return ReadOut(id=notice_id, read_at=await notices.mark_read(session, principal, notice_id=notice_id))
