"""Alert areas (CAP `<area>`, issue 17 item 3): polygons, circles and region codes made one geometry in PostGIS, its
representative point, and the grids it touches.

A polygon comes as its ring of (lon, lat); a circle as its centre and radius in km (a geodesic buffer, 32 segments a
quarter); a geocode names a region by its code. Their union is made valid (ST_MakeValid: CAP senders draw
self-touching rings). The representative point is ST_PointOnSurface: inside the area even when it is a crescent,
unlike a centroid. The grids are the regions of level `grid` the area intersects, by code."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

GRID_LEVEL = "grid"


@dataclass(frozen=True, slots=True)
class Area:
    ewkt: str          # the area, for storing with the incident
    lon: float         # representative point (inside the area)
    lat: float
    grids: list[str]   # codes of every grid the area touches, sorted
    unknown_geocodes: list[str]


def _ring_wkt(ring: Sequence[tuple[float, float]]) -> str:
    return "POLYGON((" + ",".join(f"{lon!r} {lat!r}" for lon, lat in ring) + "))"


_AREA = text("""
WITH parts AS (
    SELECT ST_MakeValid(ST_GeomFromText(w, 4326)) AS g FROM unnest(CAST(:polygons AS text[])) AS w
    UNION ALL
    SELECT ST_Buffer(ST_SetSRID(ST_MakePoint(c[1], c[2]), 4326)::geography, c[3] * 1000, 32)::geometry
    FROM (SELECT ARRAY[x, y, r] AS c FROM unnest(CAST(:cx AS float8[]), CAST(:cy AS float8[]),
                                                 CAST(:cr AS float8[])) AS t(x, y, r)) circles
    UNION ALL
    SELECT geom FROM regions WHERE code = ANY(CAST(:codes AS varchar[]))
), area AS (
    SELECT ST_CollectionExtract(ST_MakeValid(ST_UnaryUnion(ST_Collect(g))), 3) AS g FROM parts
)
SELECT ST_AsEWKT(area.g), ST_X(p), ST_Y(p),
       ARRAY(SELECT r.code FROM regions r WHERE r.level = :grid AND ST_Intersects(r.geom, area.g) ORDER BY r.code),
       ARRAY(SELECT c FROM unnest(CAST(:codes AS varchar[])) c WHERE NOT EXISTS (SELECT 1 FROM regions WHERE code = c))
FROM area, LATERAL ST_PointOnSurface(area.g) AS p
WHERE NOT ST_IsEmpty(area.g)
""")


async def area_of(session: AsyncSession, *, polygons: Sequence[Sequence[tuple[float, float]]],
                  circles: Sequence[tuple[float, float, float]], region_codes: Sequence[str]) -> Area | None:
    """The union of the parts (None if they make no area: nothing given, or only unknown region codes)."""
    if not (polygons or circles or region_codes):
        return None
    row = (await session.execute(_AREA, {
        "polygons": [_ring_wkt(r) for r in polygons], "cx": [c[0] for c in circles], "cy": [c[1] for c in circles],
        "cr": [c[2] for c in circles], "codes": list(region_codes), "grid": GRID_LEVEL})).first()
    if row is None:
        return None
    return Area(ewkt=row[0], lon=float(row[1]), lat=float(row[2]), grids=list(row[3]), unknown_geocodes=list(row[4]))


async def store_area(session: AsyncSession, *, incident_id: int, area: Area) -> None:
    """Keep the area and its grids with the incident (incidents.area / area_grids, not loaded with the row)."""
    await session.execute(text("UPDATE incidents SET area = ST_GeomFromEWKT(:a), area_grids = :g WHERE id = :i"),
                          {"a": area.ewkt, "g": area.grids, "i": incident_id})


async def area_geojson(session: AsyncSession, *, incident_ids: Sequence[int],
                       max_decimal_digits: int = 6) -> dict[int, str]:
    """The stored areas of these incidents as GeoJSON geometry strings (incidents without one are left out)."""
    rows = await session.execute(text(
        "SELECT id, ST_AsGeoJSON(area, :d) FROM incidents WHERE id = ANY(:ids) AND area IS NOT NULL"),
        {"ids": list(incident_ids), "d": max_decimal_digits})
    return {int(i): g for i, g in rows}
