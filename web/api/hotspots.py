"""Hotspots (热点): incidents per grid for the heat map, repeat complaints (clusters) and repeat callers of a
period, and a cluster turned into one supervised case — /api/v1/hotspots/… (docs/assessment.md)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import Field

from command.reports import assessment, hotspots, periods
from web.api.assessment import PeriodName, Scope
from web.deps import Operator, ReadSessionDep, SessionDep, SettingsDep, Supervisor
from web.openapi_errors import errors
from web.request_models import Body, Reason
from web.request_types import Day, Id64

router = APIRouter(prefix="/api/v1/hotspots", tags=["assessment"])


async def _window(session: SessionDep, principal: Any, settings: Any, period: str, day: date, until: date | None,
                  scope: str | None, **kw: Any) -> hotspots.Window:
    p = periods.period_of(period, day, until)
    start, end = p.bounds(settings.timezone)
    return hotspots.Window(start, end, await assessment.resolve_scope(session, principal, scope), **kw)


@router.get("/grids")
async def grids(principal: Operator, session: ReadSessionDep, settings: SettingsDep,
                day: Annotated[Day, Query(alias="date")], period: PeriodName = "month", to: Day | None = None,
                scope: Scope = None) -> dict[str, Any]:
    """Incidents received per grid in the period (with a point inside each grid), most first."""
    w = await _window(session, principal, settings, period, day, to, scope)
    return {"grids": await hotspots.grid_heat(session, w)}


@router.get("/repeats")
async def repeats(principal: Operator, session: ReadSessionDep, settings: SettingsDep,
                  day: Annotated[Day, Query(alias="date")], period: PeriodName = "month", to: Day | None = None,
                  scope: Scope = None,
                  distance_m: Annotated[float, Query(ge=1, le=5000, allow_inf_nan=False)] = 100.0,
                  min_count: Annotated[int, Query(ge=2, le=1000)] = 3,
                  days: Annotated[int, Query(ge=1, le=366)] = 30) -> dict[str, Any]:
    """Repeat complaints (same category within distance_m) and repeat callers (same phone, masked), each at
    least min_count times within `days` days, with their incidents."""
    w = await _window(session, principal, settings, period, day, to, scope, distance_m=distance_m,
                      min_count=min_count, days=days)
    return {"clusters": await hotspots.repeat_clusters(session, w),
            "callers": await hotspots.repeat_callers(session, w),
            "distance_m": distance_m, "min_count": min_count, "days": days}


class ClusterIn(Body):
    incident_ids: list[Id64] = Field(min_length=2, max_length=hotspots.MAX_CLUSTER_IDS)
    reason: Reason


@router.post("/supervise", status_code=201, responses=errors(409))
async def supervise_cluster(body: ClusterIn, principal: Supervisor, session: SessionDep) -> dict[str, Any]:
    """One supervised case (督办) for a cluster: on its latest open incident, the reason naming every incident
    (409 when all of them are closed)."""
    event = await hotspots.supervise_cluster(session, principal=principal, incident_ids=list(body.incident_ids),
                                             reason=body.reason)
    return {"incident_id": event.incident_id, "event_id": event.id, "reason": event.reason}
