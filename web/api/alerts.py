"""POST /api/v1/alerts: one report from any channel → stored, located, dispatched (command.intake)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Header, Response
from pydantic import BaseModel, ConfigDict, Field
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from command.errors import Forbidden
from command.events import Actor
from command.intake import CHANNELS, MAX_DESCRIPTION, AlertIn, submit_alert
from command.security import Principal
from command.settings import Settings
from command.summaries import incident_summary, order_summary
from geo.coords import Crs
from web.deps import get_redis, get_session, get_settings, require_roles

router = APIRouter(prefix="/api/v1", tags=["alerts"])

Channel = Literal[CHANNELS]  # type: ignore[valid-type]


class Reporter(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=100)
    phone: str | None = Field(None, min_length=3, max_length=32)


class AlertBody(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    category: str = Field(min_length=1, max_length=64)
    description: str = Field(min_length=1, max_length=MAX_DESCRIPTION)
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    crs: Crs = Crs.wgs84
    channel: Channel
    reporter: Reporter | None = None
    priority: int | None = Field(None, ge=1, le=4)
    external_id: str | None = Field(None, min_length=1, max_length=128)


@router.post("/alerts", status_code=201)
async def post_alert(
    body: AlertBody,
    response: Response,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", max_length=128),
    principal: Principal = Depends(require_roles("operator", "supervisor", "worker")),
    session: AsyncSession = Depends(get_session),
    redis: Redis = Depends(get_redis),
    settings: Settings = Depends(get_settings),
) -> dict:
    """201 with the new incident, its region chain (top-down) and the orders created; a retry with the same
    external_id (per channel) or Idempotency-Key answers 200 with the same incident (`replayed: true`)."""
    if principal.role == "worker" and body.channel != "patrol":
        raise Forbidden("grid workers report through the patrol channel")
    reporter = body.reporter or Reporter()
    result = await submit_alert(
        session, redis, settings=settings, idempotency_key=idempotency_key, key_scope=f"u{principal.user_id}",
        actor=Actor(principal.username, principal.user_id),
        alert=AlertIn(category=body.category, description=body.description, lon=body.lon, lat=body.lat,
                      channel=body.channel, crs=body.crs.value, priority=body.priority,
                      reporter_name=reporter.name, reporter_phone=reporter.phone, external_id=body.external_id),
    )
    if not result.created:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    return {**incident_summary(result.incident), "replayed": not result.created,
            "region_chain": result.region_chain, "orders": [order_summary(o) for o in result.orders]}
