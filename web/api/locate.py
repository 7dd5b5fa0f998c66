"""GET /api/v1/locate: a point (WGS-84, GCJ-02 or BD-09) → the deepest region holding it and its chain."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from sqlalchemy.ext.asyncio import AsyncSession

from command.security import Principal
from command.settings import Settings
from geo.coords import Crs, to_wgs84
from geo.locate import locate as locate_point
from web.deps import current_principal, get_session, get_settings

router = APIRouter(prefix="/api/v1", tags=["geo"])


@router.get("/locate")
async def locate(
    lon: float = Query(..., ge=-180, le=180, description="longitude in `crs`"),
    lat: float = Query(..., ge=-90, le=90, description="latitude in `crs`"),
    crs: Crs = Query(Crs.wgs84, description="wgs84 (GPS), gcj02 (AMap/Tencent/WeChat) or bd09 (Baidu)"),
    principal: Principal = Depends(current_principal),
    session: AsyncSession = Depends(get_session),
    settings: Settings = Depends(get_settings),
) -> dict:
    wlon, wlat = to_wgs84(lon, lat, crs)
    found = await locate_point(session, lon=wlon, lat=wlat, tolerance_m=settings.locate_tolerance_m)
    return {
        "outside": found.outside,
        "region": found.region.as_dict() if found.region else None,
        "chain": [r.as_dict() for r in found.chain],  # the region itself first, the top last
        "distance_m": round(found.distance_m, 2),
        "point": {"lon": wlon, "lat": wlat, "crs": "wgs84"},
    }
