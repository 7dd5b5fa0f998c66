"""GET /api/v1/screen/config: where a wall display starts (scope region, bounds, tile URLs, base map);
GET /api/v1/screen/areas: the alert areas (CAP) of open incidents, drawn as shapes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from command.reports.screen import screen_config
from command.reports.screen_areas import open_areas
from web.deps import CurrentUser, SessionDep, SettingsDep
from web.request_types import SafeLine

router = APIRouter(prefix="/api/v1/screen", tags=["screen"])


@router.get("/config")
async def config(
    principal: CurrentUser, session: SessionDep, settings: SettingsDep,
    region: Annotated[SafeLine | None, Query(min_length=1, max_length=64, description="a region within yours")] = None,
) -> dict:
    return await screen_config(session, principal=principal, settings=settings, region=region)


@router.get("/areas")
async def areas(principal: CurrentUser, session: SessionDep) -> dict:
    """Open incidents' alert areas in the caller's region as GeoJSON (simplified for the screen)."""
    return await open_areas(session, principal=principal)
