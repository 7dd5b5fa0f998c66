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

Two statements, the first answering almost every point in one round trip:
  * `_LOCATE_DEEPEST` asks only the deepest level (micro-grids, `depth >= DEEPEST`) through its own partial GiST
    index (ix_regions_geom_deepest). A hit there is final whatever the geometry of the tree: nothing is deeper,
    and every equally deep region that holds the point is among its candidates, so "smallest code" is decided
    within them too. The import makes no promise that children cover or stay inside their parent, so nothing
    shallower is ever taken from a leaf. The chain comes from the row itself (`path_names`/`path_levels`, kept by
    the import parallel to `path`), with no join.
  * `_LOCATE`, the full rule over every level, inside then outside, runs only when no micro-grid holds the point
    (a gap between children, a point outside, or a region written by anything but the import without a chain).
  The point goes in through a subquery the planner cannot flatten (OFFSET 0): custom plans then cost the same
  as the generic one, so the server keeps one cached plan instead of re-planning the statement every call.

The outside search is prefiltered with ST_DWithin on the planar GiST index, using a radius in degrees that covers
`tolerance_m` at that latitude, then measured exactly on the spheroid. Each candidate is first clipped to that
square around the point (ST_ClipByBox2D, planar and cheap): the clipped part is a subset of the polygon that holds
every boundary point within tolerance, so the distance is unchanged whenever it is within tolerance and can only
grow otherwise, while a district with thousands of vertices costs a handful (2.5 ms → 0.3 ms measured for one
point near the demo city's edge).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from geo.errors import GeoInputError
from geo.models import DEEPEST
from pgnative.statements import Native

TIE_M = 0.01  # distances within 1 cm of the nearest are ties
_MIN_M_PER_DEG = 110_000.0  # below the length of one degree of latitude anywhere (110,574 m at the equator)

_DEEPEST = Native(f"""
SELECT r.path, r.path_names, r.path_levels
FROM (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS g OFFSET 0) pt, regions r
WHERE r.depth >= {DEEPEST} AND ST_Intersects(r.geom, pt.g)
ORDER BY r.depth DESC, r.code COLLATE "C" LIMIT 1
""")

_FULL = Native("""
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

# The same as text() clauses, by the names the docs and the bench (pgbench scripts from their text) use.
_LOCATE_DEEPEST, _LOCATE = _DEEPEST.portable, _FULL.portable


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
    lon, lat = float(lon), float(lat)
    deepest = await _DEEPEST.fetch(session, lon=lon, lat=lat)
    if deepest:
        codes, names, levels = deepest[0]
        if len(codes) == len(names) == len(levels):  # the chain stored with the row: the common case
            chain = [RegionRef(*ref) for ref in zip(reversed(codes), reversed(names), reversed(levels), strict=True)]
            return Located(outside=False, region=chain[0], chain=chain)
    rows = await _FULL.fetch(session, lon=lon, lat=lat, tolerance=float(tolerance_m), tie=TIE_M,
                             radius_deg=search_radius_deg(lat, tolerance_m))
    if not rows:
        return Located(outside=True, region=None, chain=[])
    chain = [RegionRef(code, name, level) for _, _, code, name, level in rows]
    return Located(outside=bool(rows[0][0]), region=chain[0], chain=chain, distance_m=float(rows[0][1]))
