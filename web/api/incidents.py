"""Incidents for consoles and wall displays: list, one with orders and timeline, nearby candidates and an
operator's choice of worker. Everything is scoped to the caller (command.incidents)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from command.assignment import override_dispatch
from command.events import Actor
from command.incidents import incident_detail, list_incidents, visible_incident
from command.live import hold_live_lock
from command.moves import lock_incident
from command.routing import routing_rule
from command.scoping import ensure_incident
from command.security import Principal
from command.settings import Settings
from command.summaries import incident_summary, order_summary
from command.workers import incident_candidates
from web.deps import current_principal, get_redis, get_session, get_settings, require_roles

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])
_operators = require_roles("operator", "supervisor")


@router.get("")
async def get_incidents(
    status: str | None = None,
    needs_attention: bool | None = None,
    before_id: int | None = Query(None, ge=1),
    limit: int = Query(100, ge=1, le=500),
    principal: Principal = Depends(require_roles("operator", "supervisor", "liaison")),
    session: AsyncSession = Depends(get_session),
) -> dict:
    items = await list_incidents(session, principal=principal, status=status, needs_attention=needs_attention,
                                 before_id=before_id, limit=limit)
    return {"items": items, "next_before_id": items[-1]["id"] if len(items) == limit else None}


@router.get("/{incident_id}")
async def get_incident(
    incident_id: int,
    principal: Principal = Depends(current_principal),
    session: AsyncSession = Depends(get_session),
) -> dict:
    return await incident_detail(session, principal=principal, incident_id=incident_id)


@router.get("/{incident_id}/candidates")
async def get_candidates(
    incident_id: int,
    radius_m: float | None = Query(None, gt=0, le=50_000),
    limit: int = Query(20, ge=1, le=200),
    principal: Principal = Depends(_operators),
    session: AsyncSession = Depends(get_session),
    redis: Redis = Depends(get_redis),
    settings: Settings = Depends(get_settings),
) -> dict:
    """The nearest workers (within the rule's radius unless given) with distance and live state."""
    incident = await visible_incident(session, principal=principal, incident_id=incident_id)
    rule = await routing_rule(session, category_code=incident.category_code, region_path=incident.region_path,
                              settings=settings)
    radius = radius_m or rule.radius_m
    items = await incident_candidates(session, redis, incident=incident, radius_m=radius, limit=limit,
                                      settings=settings)
    return {"incident_id": incident.id, "radius_m": radius, "items": items}


class DispatchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    worker_id: int = Field(ge=1)


@router.post("/{incident_id}/dispatch", status_code=201)
async def post_dispatch(
    incident_id: int,
    body: DispatchBody,
    principal: Principal = Depends(_operators),
    session: AsyncSession = Depends(get_session),
    redis: Redis = Depends(get_redis),
    settings: Settings = Depends(get_settings),
) -> dict:
    """An operator sends a chosen worker: claimed atomically like any dispatch (409 if not available)."""
    await hold_live_lock(session)  # before the row lock (command.live)
    incident = await lock_incident(session, incident_id)
    ensure_incident(principal, incident)
    order = await override_dispatch(session, redis, incident=incident, worker_id=body.worker_id, settings=settings,
                                    actor=Actor(principal.username, principal.user_id))
    return {"order": order_summary(order), "incident": incident_summary(incident)}
