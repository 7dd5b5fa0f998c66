"""The resident's tracking link (public, no login, rate-limited): /api/v1/track/{public_id}?token=…

Shows the category and the status timeline only; after resolution the resident rates the result
(满意 / 基本满意 / 不满意 — 不满意 reopens the incident)."""

from __future__ import annotations

from typing import Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from command import callbacks
from command.events import Actor
from command.settings import Settings
from command.tracking import incident_for_token, public_view
from web.deps import get_session, get_settings
from web.ratelimit import rate_limited

router = APIRouter(prefix="/api/v1/track", tags=["resident tracking"])
Limited = Depends(rate_limited("track", lambda request: request.app.state.settings.resident_rate_per_min))


class RatingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=1, max_length=64)
    rating: Literal["satisfied", "basically_satisfied", "dissatisfied"]
    comment: str | None = Field(None, max_length=1000)


@router.get("/{public_id}", dependencies=[Limited])
async def track(public_id: str, token: str = Query(..., max_length=64), session: AsyncSession = Depends(get_session),
                settings: Settings = Depends(get_settings)) -> dict:
    incident = await incident_for_token(session, secret_key=settings.secret_key, public_id=public_id, token=token)
    return await public_view(session, incident)


@router.post("/{public_id}/rating", status_code=201, dependencies=[Limited])
async def rate(public_id: str, body: RatingIn, request: Request, session: AsyncSession = Depends(get_session),
               settings: Settings = Depends(get_settings)) -> dict:
    incident = await incident_for_token(session, secret_key=settings.secret_key, public_id=public_id,
                                        token=body.token)
    cb = await callbacks.rate(session, incident_id=incident.id, rating=body.rating, via="link",
                              actor=Actor(name="resident"), tz=ZoneInfo(settings.timezone), comment=body.comment)
    return {"rating": cb.rating, "reopened": cb.reopened, "status": incident.status}
