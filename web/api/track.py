"""The resident's tracking link (public, no login, rate-limited): GET /api/v1/track/{public_id} with the tracking
token in the `X-Tracking-Token` header — never in the query string, which access logs and proxies keep. The page
(/r/t/{public_id}#k=<token>) reads it from the URL fragment, which browsers do not send.

Shows the category and the status timeline only; after resolution the resident rates the result
(满意 / 基本满意 / 不满意 — 不满意 reopens the incident)."""

from __future__ import annotations

from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Header, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from command.core.events import Actor
from command.orders import callbacks
from command.orders.tracking import incident_for_token, public_view
from web.deps import SessionDep, SettingsDep
from web.openapi_errors import errors
from web.ratelimit import rate_limited
from web.request_types import SafeLine, SafeText

router = APIRouter(prefix="/api/v1/track", tags=["resident tracking"])
Limited = Depends(rate_limited("track", lambda request: request.app.state.settings.resident_rate_per_min))


class RatingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: SafeLine = Field(min_length=1, max_length=64)
    rating: Literal["satisfied", "basically_satisfied", "dissatisfied"]
    comment: SafeText | None = Field(None, max_length=1000)


TOKEN_HEADER = "X-Tracking-Token"


@router.get("/{public_id}", dependencies=[Limited], responses=errors(404, 422, 429))
async def track(public_id: Annotated[SafeLine, Path(max_length=64)],
                token: Annotated[SafeLine, Header(alias=TOKEN_HEADER, max_length=64,
                                                  description="the tracking token of the link")],
                session: SessionDep, settings: SettingsDep) -> dict:
    incident = await incident_for_token(session, secret_key=settings.secret_key, public_id=public_id, token=token)
    return await public_view(session, incident)


@router.post("/{public_id}/rating", status_code=201, dependencies=[Limited])
async def rate(body: RatingIn, request: Request, public_id: Annotated[SafeLine, Path(max_length=64)],
               session: SessionDep, settings: SettingsDep) -> dict:
    incident = await incident_for_token(session, secret_key=settings.secret_key, public_id=public_id,
                                        token=body.token)
    cb = await callbacks.rate(session, incident_id=incident.id, rating=body.rating, via="link",
                              actor=Actor(name="resident"), tz=ZoneInfo(settings.timezone), comment=body.comment)
    return {"rating": cb.rating, "reopened": cb.reopened, "status": incident.status}
