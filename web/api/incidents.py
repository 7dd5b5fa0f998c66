"""Incidents for consoles and wall displays: list, one with orders and timeline, nearby candidates and an
operator's choice of worker. Everything is scoped to the caller (command.orders.incidents)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from command.assign.assignment import override_dispatch
from command.assign.live import hold_live_lock
from command.assign.workers import incident_candidates
from command.core.events import Actor
from command.core.lifecycle import IncidentStatus
from command.core.moves import lock_incident
from command.core.routing import routing_rule
from command.core.scoping import ensure_incident
from command.core.summaries import incident_summary, order_summary
from command.orders.incidents import incident_detail, list_incidents, visible_incident
from web.deps import CurrentUser, Operator, OperatorOrLiaison, RedisDep, SessionDep, SettingsDep
from web.request_types import BodyId32, Id64

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])


@router.get("")
async def get_incidents(principal: OperatorOrLiaison, session: SessionDep,
                        status: IncidentStatus | None = None, needs_attention: bool | None = None,
                        before_id: Id64 | None = None, limit: Annotated[int, Query(ge=1, le=500)] = 100) -> dict:
    items = await list_incidents(session, principal=principal, status=status.value if status else None,
                                 needs_attention=needs_attention,
                                 before_id=before_id, limit=limit)
    return {"items": items, "next_before_id": items[-1]["id"] if len(items) == limit else None}


@router.get("/{incident_id}")
async def get_incident(
    incident_id: Id64,
    principal: CurrentUser,
    session: SessionDep,
) -> dict:
    return await incident_detail(session, principal=principal, incident_id=incident_id)


@router.get("/{incident_id}/candidates")
async def get_candidates(incident_id: Id64, principal: Operator, session: SessionDep,
                         redis: RedisDep, settings: SettingsDep,
                         radius_m: Annotated[float | None, Query(gt=0, le=50_000, allow_inf_nan=False)] = None,
                         limit: Annotated[int, Query(ge=1, le=200)] = 20) -> dict:
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
    worker_id: BodyId32


@router.post("/{incident_id}/dispatch", status_code=201)
async def post_dispatch(
    incident_id: Id64,
    body: DispatchBody,
    principal: Operator,
    session: SessionDep,
    redis: RedisDep,
    settings: SettingsDep,
) -> dict:
    """An operator sends a chosen worker: claimed atomically like any dispatch (409 if not available)."""
    await hold_live_lock(session)  # before the row lock (command.assign.live)
    incident = await lock_incident(session, incident_id)
    ensure_incident(principal, incident)
    order = await override_dispatch(session, redis, incident=incident, worker_id=body.worker_id, settings=settings,
                                    actor=Actor(principal.username, principal.user_id))
    return {"order": order_summary(order), "incident": incident_summary(incident)}
