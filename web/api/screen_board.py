"""Read endpoints of the wall display and the operator console (command.reports.screen_board):

  GET /api/v1/screen/board    the watched region, its region and department names, the incidents on the map,
                              the deadlines counting down and the open queue sizes — everything a screen
                              refetches after a `reset` frame or a reconnect
  GET /api/v1/screen/figures  today's figures (total, per category, per region below) and the 24-hour trend
  GET /api/v1/screen/resources  emergency resource points in the watched region, as GeoJSON
  GET /api/v1/categories      the active categories (public reference data: the resident page needs it too)
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Query, Request

from command.reports import screen_board as board
from web.deps import CurrentUser, Operator, SessionDep, SettingsDep
from web.ratelimit import rate_limited
from web.request_types import SafeLine

router = APIRouter(prefix="/api/v1", tags=["screens"])
REGION = Query(None, min_length=1, max_length=64, description="a region within yours (default: yours)")


def _region_out(region: object | None) -> dict | None:
    if region is None:
        return None
    return {"code": region.code, "name": region.name, "level": region.level, "path": list(region.path)}


@router.get("/screen/board")
async def get_board(principal: Operator, session: SessionDep, region: SafeLine | None = REGION) -> dict:
    now = datetime.now(UTC)
    watched = await board.watched_region(session, principal=principal, region=region)
    return {
        "now": now.isoformat(),
        "region": _region_out(watched),
        "names": await board.region_names(session, watched=watched),
        "departments": await board.department_names(session, watched=watched),
        "incidents": await board.map_incidents(session, watched=watched, now=now),
        "deadlines": await board.open_deadlines(session, watched=watched, now=now),
        "counts": await board.open_counts(session, watched=watched),
    }


@router.get("/screen/figures")
async def get_figures(principal: Operator, session: SessionDep, settings: SettingsDep,
                      region: SafeLine | None = REGION) -> dict:
    now = datetime.now(UTC)
    watched = await board.watched_region(session, principal=principal, region=region)
    figures = await board.today_figures(session, principal=principal, watched=watched, now=now, tz=settings.timezone)
    return {**figures, "trend": await board.hourly_trend(session, watched=watched, now=now, tz=settings.timezone)}


@router.get("/screen/resources")
async def get_resources(principal: CurrentUser, session: SessionDep,
                        region: SafeLine | None = REGION) -> dict:
    """Operators, supervisors and admins, within their region: the same rule as the `resources` tiles."""
    watched = await board.resources_region(session, principal=principal, region=region)
    return await board.resources_geojson(session, watched=watched)


def _catalog_limit(request: Request) -> int:
    return max(60, request.app.state.settings.resident_rate_per_min * 3)


@router.get("/categories", dependencies=[Depends(rate_limited("categories", _catalog_limit))])
async def get_categories(session: SessionDep) -> dict:
    return {"items": await board.categories(session)}
