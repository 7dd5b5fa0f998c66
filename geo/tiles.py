"""Mapbox vector tiles built by PostGIS (ST_AsMVT): region boundaries and emergency resources.

Layer `regions`: one layer, every region a polygon with properties `code`, `name`, `level`, `depth`, `parent`.
Which levels a tile carries depends on the zoom, so a tile stays small and the map is not a solid mesh of lines
when zoomed out (demo city, ~15 km across: at z12 one tile is ~8 km wide, at z14 ~2 km and holds ~30 micro-grids):

    district z0+, street z9+, community z11+, grid z13+, microgrid z14+

Geometry is simplified in Web Mercator to half a pixel of the tile's 4096 grid before ST_AsMVTGeom quantises it;
neighbours are simplified independently, so any gap this opens is below half a pixel, i.e. invisible.

Layer `resources`: resource points (hydrants, shelters, AEDs…) from z12, with `id`, `kind`, `name`, `region_code`.

Tiles are selected with the 4326 GiST index (the tile envelope, widened by the clip buffer, transformed back).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from geo.errors import GeoInputError
from geo.models import Level

MAX_ZOOM = 22
EXTENT = 4096
BUFFER = 64  # pixels of the 4096 grid kept beyond the tile edge, so lines join cleanly across tiles
WORLD_M = 40_075_016.685578488  # Web Mercator world width in metres

LEVEL_MIN_ZOOM: dict[Level, int] = {
    Level.district: 0,
    Level.street: 9,
    Level.community: 11,
    Level.grid: 13,
    Level.microgrid: 14,
}
RESOURCES_MIN_ZOOM = 12

# Levels down to this depth are few (districts, streets, communities: ~22,000 of a province's ~540,000 regions)
# and have their own partial GiST index; a tile that needs no deeper level says so literally, so the planner can
# use it instead of fetching every region in the tile's box and filtering by level (≥ 0.5 s at zoom 7).
UPPER_DEPTH = 2

_REGIONS_SQL = f"""
WITH b AS (SELECT ST_TileEnvelope(:z, :x, :y) AS env,
                  ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => {BUFFER / EXTENT}), 4326) AS q),
f AS (
  SELECT r.code, r.name, r.level, r.depth, p.code AS parent,
         ST_AsMVTGeom(ST_Simplify(ST_Transform(r.geom, 3857), :tolerance, true), b.env, {EXTENT}, {BUFFER}, true)
           AS geom
  FROM regions r CROSS JOIN b LEFT JOIN regions p ON p.id = r.parent_id
  WHERE r.geom && b.q AND r.level = ANY(CAST(:levels AS varchar[])) AND r.depth <= {{max_depth}}
)
SELECT ST_AsMVT(f.*, 'regions', {EXTENT}, 'geom') FROM f WHERE f.geom IS NOT NULL
"""
_REGIONS = {d: text(_REGIONS_SQL.format(max_depth=d)) for d in range(len(Level))}

# A tile is one small query: the planner's parallel workers and JIT compilation (chosen because PostGIS functions
# declare high costs) each cost more than the query itself (~100 ms of worker start-up, up to 1 s of JIT on a
# busy machine). Transaction-local, so only the tile request's own transaction is affected.
_NO_PARALLEL = text("SELECT set_config('max_parallel_workers_per_gather', '0', true), set_config('jit', 'off', true)")

_RESOURCES = text(f"""
WITH b AS (SELECT ST_TileEnvelope(:z, :x, :y) AS env,
                  ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => {BUFFER / EXTENT}), 4326) AS q),
f AS (
  SELECT rp.id, rp.kind, rp.name, rp.region_code,
         ST_AsMVTGeom(ST_Transform(rp.geom, 3857), b.env, {EXTENT}, {BUFFER}, true) AS geom
  FROM resource_points rp CROSS JOIN b
  WHERE rp.geom && b.q
    AND (CAST(:within AS integer) IS NULL
         OR ST_Intersects(rp.geom, (SELECT r.geom FROM regions r WHERE r.id = CAST(:within AS integer))))
)
SELECT ST_AsMVT(f.*, 'resources', {EXTENT}, 'geom') FROM f WHERE f.geom IS NOT NULL
""")


def check_tile(z: int, x: int, y: int) -> None:
    if not 0 <= z <= MAX_ZOOM:
        raise GeoInputError(f"zoom {z} out of range 0..{MAX_ZOOM}")
    n = 1 << z
    if not (0 <= x < n and 0 <= y < n):
        raise GeoInputError(f"tile {z}/{x}/{y} does not exist: x and y must be within 0..{n - 1} at zoom {z}")


def levels_at(z: int) -> list[str]:
    return [lvl.value for lvl, zmin in LEVEL_MIN_ZOOM.items() if z >= zmin]


async def regions_tile(session: AsyncSession, *, z: int, x: int, y: int) -> bytes:
    check_tile(z, x, y)
    tolerance = WORLD_M / (1 << z) / EXTENT / 2  # half a pixel, in metres
    levels = levels_at(z)
    await session.execute(_NO_PARALLEL)
    result = await session.execute(_REGIONS[max(Level(lv).depth for lv in levels)],
                                   {"z": z, "x": x, "y": y, "tolerance": tolerance, "levels": levels})
    return bytes(result.scalar_one() or b"")


async def resources_tile(session: AsyncSession, *, z: int, x: int, y: int, within: int | None = None) -> bytes:
    """The resource points of the tile, only those inside region id `within` when given."""
    check_tile(z, x, y)
    if z < RESOURCES_MIN_ZOOM:
        return b""
    result = await session.execute(_RESOURCES, {"z": z, "x": x, "y": y, "within": within})
    return bytes(result.scalar_one() or b"")


TileFn = Callable[..., Awaitable[bytes]]
LAYERS: dict[str, TileFn] = {"regions": regions_tile, "resources": resources_tile}
