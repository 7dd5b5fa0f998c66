"""Point → the deepest region that holds it, with its chain of ancestors, in one indexed round trip.

The rule, deterministic on shared borders and vertices:
  * Inside: among the regions that intersect the point, boundary included (ST_Intersects), the deepest level
    wins; among equally deep ones (a point on a border or vertex shared by siblings) the smallest `code`
    (string order, "C" collation) wins.
  * Outside every region: the regions within `tolerance_m` (geodesic distance on the WGS-84 spheroid, as
    PostGIS geography computes it) are candidates; those within 1 cm of the nearest one count as equally near
    (a polygon and its children share the outer border, so their distances differ only by rounding); among
    them the deepest level, then the smallest code, wins. None within tolerance → region None.
  * The chain is the winner itself followed by its ancestors up to the top (the top last), read from the
    stored `path` in the same query.

The outside search is prefiltered with ST_DWithin on the planar GiST index, using a radius in degrees that covers
`tolerance_m` at that latitude, then measured exactly on the spheroid. Each candidate is first clipped to that
square around the point (ST_ClipByBox2D, planar and cheap): the clipped part is a subset of the polygon that holds
every boundary point within tolerance, so the distance is unchanged whenever it is within tolerance and can only
grow otherwise, while a district with thousands of vertices costs a handful (2.5 ms → 0.3 ms measured for one
point near the demo city's edge).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from geo.errors import GeoInputError

TIE_M = 0.01  # distances within 1 cm of the nearest are ties
_MIN_M_PER_DEG = 110_000.0  # below the length of one degree of latitude anywhere (110,574 m at the equator)

_LOCATE = text("""
WITH pt AS (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS g),
inside AS (
  SELECT r.code, r.path, false AS outside, 0.0::float8 AS dist
  FROM regions r, pt WHERE ST_Intersects(r.geom, pt.g)
  ORDER BY r.depth DESC, r.code COLLATE "C" LIMIT 1
),
near AS (
  SELECT r.code, r.path, r.depth,
         ST_Distance(ST_ClipByBox2D(r.geom, ST_Expand(pt.g, :radius_deg))::geography, pt.g::geography) AS dist
  FROM regions r, pt
  WHERE NOT EXISTS (SELECT 1 FROM inside) AND ST_DWithin(r.geom, pt.g, :radius_deg)
),
nearest AS (
  SELECT code, path, true AS outside, dist FROM near
  WHERE dist <= :tolerance AND dist <= (SELECT min(dist) FROM near) + :tie
  ORDER BY depth DESC, code COLLATE "C" LIMIT 1
),
hit AS (SELECT * FROM inside UNION ALL SELECT * FROM nearest LIMIT 1)
SELECT hit.outside, hit.dist, a.code, a.name, a.level
FROM hit JOIN regions a ON a.code = ANY(hit.path)
ORDER BY array_position(hit.path, a.code) DESC
""")


@dataclass(frozen=True, slots=True)
class RegionRef:
    code: str
    name: str
    level: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "name": self.name, "level": self.level}


@dataclass(frozen=True, slots=True)
class Located:
    outside: bool
    region: RegionRef | None
    chain: list[RegionRef] = field(default_factory=list)  # the region first, the top last
    distance_m: float = 0.0  # outside: how far the point is from `region`

    @property
    def path(self) -> list[str]:
        """Codes top-down, the scope key incidents carry."""
        return [r.code for r in reversed(self.chain)]


def check_point(lon: float, lat: float) -> None:
    if not (math.isfinite(lon) and math.isfinite(lat) and -180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        raise GeoInputError(f"coordinates out of range: lon {lon}, lat {lat}",
                            details=[{"field": "lon/lat", "reason": "lon must be within ±180 and lat within ±90"}])


def search_radius_deg(lat: float, tolerance_m: float) -> float:
    """A planar radius in degrees that covers every point within tolerance_m metres of a point at `lat`."""
    worst_lat = min(abs(lat) + 1.0, 89.0)  # one degree of slack for the candidate's own latitude
    return tolerance_m / (_MIN_M_PER_DEG * math.cos(math.radians(worst_lat)))


async def locate(session: AsyncSession, *, lon: float, lat: float, tolerance_m: float) -> Located:
    """The region holding a WGS-84 point, by the module's documented rule."""
    check_point(lon, lat)
    if not (math.isfinite(tolerance_m) and tolerance_m >= 0):
        raise GeoInputError(f"tolerance must be a non-negative number of metres, not {tolerance_m}")
    rows = await _fetch(session, {
        "lon": float(lon), "lat": float(lat), "tolerance": float(tolerance_m), "tie": TIE_M,
        "radius_deg": search_radius_deg(lat, tolerance_m),
    })
    if not rows:
        return Located(outside=True, region=None, chain=[])
    chain = [RegionRef(code, name, level) for _, _, code, name, level in rows]
    return Located(outside=bool(rows[0][0]), region=chain[0], chain=chain, distance_m=float(rows[0][1]))


# The same statement with asyncpg's numbered parameters (`::casts` left alone), for the fast path below.
_PARAMS = ("lon", "lat", "tolerance", "tie", "radius_deg")
_LOCATE_NATIVE = re.sub(r"(?<!:):(" + "|".join(_PARAMS) + r")\b",
                        lambda m: f"${_PARAMS.index(m.group(1)) + 1}", _LOCATE.text)


async def _fetch(session: AsyncSession, params: dict[str, float]) -> Sequence[Sequence[Any]]:
    """Run the statement on the session's connection. On asyncpg (the app's driver) it goes straight to the
    driver, prepared once per connection: locate is on every alert's path, and SQLAlchemy's statement and result
    layers cost more CPU than the query itself (docs/benchmarks.md has the figures). The query
    runs in the session's transaction when one is open, as before. Any other driver takes the portable path."""
    conn = await session.connection()
    driver = (await conn.get_raw_connection()).driver_connection
    fetch = getattr(driver, "fetch", None)
    if fetch is None:
        return (await session.execute(_LOCATE, params)).all()
    return await fetch(_LOCATE_NATIVE, *(params[k] for k in _PARAMS))
