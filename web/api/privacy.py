"""/api/v1/admin/erasures and /api/v1/admin/reporter-views: a resident's erasure request carried out, and the
record of who read reporters' names and phones (PIPL, command.ops.privacy, docs/operations.md). Admins only."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import select

from command.core.models import ReporterView
from command.ops.privacy import erase_resident
from web.deps import Admin, SessionDep, SettingsDep
from web.openapi_errors import errors
from web.request_models import Body
from web.request_types import Id64, SafeLine

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])


class ErasureIn(Body):
    phone: SafeLine = Field(min_length=3, max_length=32, pattern=r"^\+?[0-9][0-9 \-]{2,31}$",
                            description="the resident's phone number, as they reported with it")


class ErasureOut(BaseModel):
    incidents: int = Field(description="incidents whose reporter and mentions were erased")
    events: int = Field(description="events whose texts were rewritten")
    photos: int = Field(description="the resident's photos deleted")


class ReporterViewOut(BaseModel):
    user_id: int | None
    username: str
    role: str
    incident_id: int
    via: str
    request_id: str | None
    viewed_at: datetime


@router.post("/erasures", responses=errors(422))
async def erase(body: ErasureIn, principal: Admin, session: SessionDep, settings: SettingsDep) -> ErasureOut:
    """Erase one resident's name, phone and photos from every incident they reported (and the phone wherever
    it is mentioned); the incidents, their states and times stay, so statistics do not change."""
    done = await erase_resident(session, settings=settings, phone=body.phone, requested_by=principal.user_id)
    return ErasureOut(incidents=done.incidents, events=done.events, photos=done.photos)


@router.get("/reporter-views")
async def reporter_views(_: Admin, session: SessionDep,
                         incident_id: Annotated[Id64 | None, Query(description="only this incident")] = None,
                         limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[ReporterViewOut]:
    """Who read reporters' names and phones, newest first."""
    q = select(ReporterView).order_by(ReporterView.id.desc()).limit(limit)
    if incident_id is not None:
        q = q.where(ReporterView.incident_id == incident_id)
    return [ReporterViewOut(user_id=v.user_id, username=v.username, role=v.role, incident_id=v.incident_id,
                            via=v.via, request_id=v.request_id, viewed_at=v.viewed_at)
            for v in await session.scalars(q)]
