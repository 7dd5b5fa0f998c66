"""GET /api/v1/screen/config: where a wall display starts (scope region, bounds, tile URLs, base map)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from sqlalchemy.ext.asyncio import AsyncSession

from command.screen import screen_config
from command.security import Principal
from command.settings import Settings
from web.deps import current_principal, get_session, get_settings

router = APIRouter(prefix="/api/v1/screen", tags=["screen"])


@router.get("/config")
async def config(
    region: str | None = Query(None, min_length=1, max_length=64, description="a region within yours"),
    principal: Principal = Depends(current_principal),
    session: AsyncSession = Depends(get_session),
    settings: Settings = Depends(get_settings),
) -> dict:
    return await screen_config(session, principal=principal, settings=settings, region=region)
