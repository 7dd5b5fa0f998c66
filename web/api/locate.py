"""GET /api/v1/locate: a point (WGS-84, GCJ-02 or BD-09) → the deepest region holding it and its chain."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from geo.coords import Crs, to_wgs84
from geo.locate import locate as locate_point
from web.deps import CurrentUser, SessionDep, SettingsDep

router = APIRouter(prefix="/api/v1", tags=["geo"])


@router.get("/locate")
async def locate(
    principal: CurrentUser, session: SessionDep, settings: SettingsDep,
    lon: Annotated[float, Query(ge=-180, le=180, allow_inf_nan=False, description="longitude in `crs`")],
    lat: Annotated[float, Query(ge=-90, le=90, allow_inf_nan=False, description="latitude in `crs`")],
    crs: Annotated[Crs, Query(description="wgs84 (GPS), gcj02 (AMap/Tencent/WeChat) or bd09 (Baidu)")] = Crs.wgs84,
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
