"""/api/v1/duty: the command centre's duty roster (值班表) and shift handovers (交接班) (command.admin.duty;
docs/comms.md). Operators, supervisors and admins of one centre (one region) share them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from command.admin import duty
from command.core.security import Principal
from web.deps import Operator, SessionDep
from web.openapi_errors import errors
from web.request_models import Body
from web.request_types import Id32, Instant, SafeLine, SafeText, VisibleText

router = APIRouter(prefix="/api/v1/duty", tags=["communication"])
Username = Annotated[SafeLine, Field(min_length=1, max_length=64)]


class ShiftIn(Body):
    username: Username
    starts_at: Instant
    ends_at: Instant


class ShiftOut(BaseModel):
    id: int
    username: str
    name: str
    phone: str | None
    starts_at: datetime
    ends_at: datetime
    now: bool


class NextOut(BaseModel):
    username: str | None
    name: str | None


class RosterOut(BaseModel):
    shifts: list[ShiftOut]
    next: NextOut


@router.get("/shifts")
async def shifts(
    session: SessionDep, principal: Operator,
    start: Annotated[Instant | None, Query(alias="from", description="default: 12 hours ago")] = None,
    days: Annotated[int, Query(ge=1, le=31, description="how many days from `from`")] = 2,
) -> RosterOut:
    """The centre's shifts in the window, with who is on duty now, and who takes over from the caller."""
    begin = start or datetime.now(UTC) - timedelta(hours=12)
    begin = begin if begin.tzinfo is not None else begin.replace(tzinfo=UTC)  # naive: read as UTC
    rows = await duty.roster(session, principal, start=begin, end=begin + timedelta(days=days))
    nxt = await duty.next_on_duty(session, principal)
    return RosterOut(shifts=[ShiftOut(**r) for r in rows],
                     next=NextOut(username=nxt.username if nxt else None, name=nxt.display_name if nxt else None))


@router.post("/shifts", status_code=201, responses=errors(409))
async def add_shift(body: ShiftIn, session: SessionDep, principal: Operator) -> dict[str, int]:
    """Roster an operator of the caller's centre. 422: not such an operator, or a shift of more than 24 hours;
    409: it overlaps one of theirs."""
    shift = await duty.add_shift(session, principal, username=body.username, starts_at=body.starts_at,
                                 ends_at=body.ends_at)
    return {"id": shift.id}


class HandoverIn(Body):
    note: VisibleText = Field(min_length=1, max_length=8000)
    to_username: Username | None = Field(None, description="default: the next operator on duty")


class SignIn(Body):
    note: SafeText | None = Field(None, max_length=4000)


class HandoverOut(BaseModel):
    id: int
    note: str
    created_at: datetime
    from_username: str
    from_name: str
    to_username: str | None
    to_name: str | None
    signed_at: datetime | None
    sign_note: str | None
    signed_username: str | None
    signed_name: str | None


async def _one(session: AsyncSession, principal: Principal, handover_id: int) -> HandoverOut:
    (row,) = await duty.handovers(session, principal, handover_id=handover_id)
    return HandoverOut(**row)


@router.get("/handovers")
async def handovers(session: SessionDep, principal: Operator,
                    pending: Annotated[bool, Query(description="only those the caller is to sign")] = False
                    ) -> list[HandoverOut]:
    """The centre's handover book, newest first."""
    return [HandoverOut(**r) for r in await duty.handovers(session, principal, pending=pending)]


@router.post("/handovers", status_code=201)
async def write(body: HandoverIn, session: SessionDep, principal: Operator) -> HandoverOut:
    """The outgoing operator's note for the next operator on duty (or the one named), who sees it live."""
    handover = await duty.write_handover(session, principal, note=body.note, to_username=body.to_username)
    return await _one(session, principal, handover.id)


@router.post("/handovers/{handover_id}/sign")
async def sign(handover_id: Id32, body: SignIn, session: SessionDep, principal: Operator) -> HandoverOut:
    """Sign for (签收) the note. 403: your own, or addressed to another; 409: already signed."""
    await duty.sign(session, principal, handover_id=handover_id, note=body.note)
    return await _one(session, principal, handover_id)
