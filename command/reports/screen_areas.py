"""The alert areas of open incidents a wall display shows as shapes (CAP areas, issue 17 item 3), within the
caller's region, simplified for the screen (about 20 m: a warning area's outline, not a survey)."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from command.core.errors import Forbidden
from command.core.lifecycle import INCIDENT_TERMINAL
from command.core.scoping import scope_region
from command.core.security import Principal
from command.reports.screen import SCREEN_ROLES

SIMPLIFY_DEG = 0.0002
MAX_AREAS = 500

_AREAS = text(f"""
SELECT id, status, priority, category_code, area_grids,
       ST_AsGeoJSON(ST_SimplifyPreserveTopology(area, {SIMPLIFY_DEG}), 6)
FROM incidents
WHERE area IS NOT NULL AND status <> ALL(:terminal) AND (CAST(:region AS varchar) IS NULL
      OR region_path @> ARRAY[CAST(:region AS varchar)])
ORDER BY id DESC LIMIT {MAX_AREAS}
""")


async def open_areas(session: AsyncSession, *, principal: Principal) -> dict[str, Any]:
    """A GeoJSON FeatureCollection: one feature per open incident with an area (newest first, at most 500)."""
    if principal.role not in SCREEN_ROLES:
        raise Forbidden(f"role {principal.role!r} has no wall display")
    rows = await session.execute(_AREAS, {"terminal": [s.value for s in INCIDENT_TERMINAL],
                                          "region": scope_region(principal)})
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": iid, "geometry": orjson.loads(geometry),
         "properties": {"id": iid, "status": status, "priority": priority, "category": category,
                        "grids": list(grids or [])}}
        for iid, status, priority, category, grids, geometry in rows]}
