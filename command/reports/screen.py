"""What a wall display needs to start: the region it watches (the caller's scope) and that region's extent."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from command.core.errors import Forbidden
from command.core.models import Department
from command.core.security import Principal
from command.core.settings import Settings
from command.reports import basemaps
from command.reports.screen_board import region_within_scope
from geo.models import Region
from geo.tiles import LEVEL_MIN_ZOOM

SCREEN_ROLES = ("admin", "supervisor", "operator", "liaison")
TILE_LAYERS = {"regions": "/tiles/regions/{z}/{x}/{y}.pbf", "resources": "/tiles/resources/{z}/{x}/{y}.pbf"}


async def _scope_code(session: AsyncSession, principal: Principal) -> str | None:
    if principal.region_code:
        return principal.region_code
    if principal.department_code:
        return await session.scalar(select(Department.region_code).where(Department.code == principal.department_code))
    return None


async def screen_config(session: AsyncSession, *, principal: Principal, settings: Settings,
                        region: str | None = None) -> dict[str, Any]:
    """The caller's region (or the top of the tree for a caller without one), or `region` within it (a district
    centre putting one street on a screen), and its bounds in WGS-84.

    `bounds` is null while no regions are imported, so a screen can say so instead of failing."""
    if principal.role not in SCREEN_ROLES:
        raise Forbidden(f"role {principal.role!r} has no wall display")
    code: str | None
    if region is not None:
        code = (await region_within_scope(session, principal=principal, region=region)).code
    else:
        code = await _scope_code(session, principal)
    where = Region.code == code if code else Region.depth == select(func.min(Region.depth)).scalar_subquery()
    extent = func.ST_Extent(Region.geom)
    row = (await session.execute(select(func.ST_XMin(extent), func.ST_YMin(extent), func.ST_XMax(extent),
                                        func.ST_YMax(extent)).where(where))).one()
    shown = (await session.execute(select(Region.code, Region.name, Region.level).where(where)
                                   .order_by(Region.code).limit(1))).first()
    return {
        "region": dict(shown._mapping) if shown else None,
        "bounds": [float(v) for v in row] if row[0] is not None else None,
        "basemap_url": basemaps.first_tiles(settings) or None,
        # The base map preset's layers (command.reports.basemaps): what the pages' style draws under the regions.
        "basemap": basemaps.describe(settings),
        "tiles": TILE_LAYERS,
        # The tile zoom from which each level is in the `regions` tiles (MapLibre's zoom = the tile zoom).
        "level_min_zoom": {level.value: z for level, z in LEVEL_MIN_ZOOM.items()},
    }
