"""Small region files for geo tests, and a fingerprint of the regions table to prove "nothing changed"."""

from __future__ import annotations

import copy

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

LON0, LAT0 = 118.70, 32.00
STEP = 0.01  # degrees; ~1 km


def box(x0: float, y0: float, x1: float, y1: float) -> list[list[list[float]]]:
    """A rectangle in grid units (STEP degrees from LON0/LAT0), counter-clockwise, as Polygon coordinates."""
    pts = [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]
    return [[[LON0 + x * STEP, LAT0 + y * STEP] for x, y in pts]]


def feature(code: str, level: str, parent: str | None, coords: list, gtype: str = "Polygon", **extra: object) -> dict:
    props = {"code": code, "name": f"名称{code}", "level": level, "parent_code": parent, **extra}
    return {"type": "Feature", "properties": props, "geometry": {"type": gtype, "coordinates": coords}}


def sample() -> dict:
    """D1 (4×4) → streets S1 (west), S2 (east) → communities C1, C2 in S1, C3 = S2 → grid G1 in C1, G3 in C3."""
    return {"type": "FeatureCollection", "features": [
        feature("D1", "district", "", box(0, 0, 4, 4)),
        feature("S1", "street", "D1", box(0, 0, 2, 4)),
        feature("S2", "street", "D1", box(2, 0, 4, 4), population=12000),
        feature("C1", "community", "S1", box(0, 0, 2, 2)),
        feature("C2", "community", "S1", box(0, 2, 2, 4)),
        feature("C3", "community", "S2", box(2, 0, 4, 4)),
        feature("G1", "grid", "C1", box(0, 0, 1, 1)),
        feature("G3", "grid", "C3", box(2, 0, 3, 1)),
    ]}


def edited(collection: dict, index: int, **changes: object) -> dict:
    """A deep copy with feature `index` changed: property keys, or `geometry=`."""
    out = copy.deepcopy(collection)
    feat = out["features"][index]
    for key, value in changes.items():
        if key == "geometry":
            feat["geometry"] = value
        else:
            feat["properties"][key] = value
    return out


def twisted_square(e: float) -> dict:
    """A 1×1 square whose closing edge crosses the first one, leaving a small lobe of area ~e²/2 (invalid)."""
    ring = [(0, 0), (1, 0), (1, 1), (0, 1), (e, -e), (0, 0)]
    return {"type": "Polygon", "coordinates": [[[LON0 + x * STEP, LAT0 + y * STEP] for x, y in ring]]}


FINGERPRINT = text("""
SELECT count(*), md5(coalesce(string_agg(
  concat_ws('|', code, name, level, depth, parent_id, path::text, encode(ST_AsBinary(geom), 'hex'), properties::text),
  ',' ORDER BY code), ''))
FROM regions
""")


async def fingerprint(session: AsyncSession) -> tuple[int, str]:
    count, digest = (await session.execute(FINGERPRINT)).one()
    return count, digest


async def without_regions(session: AsyncSession) -> AsyncSession:
    """Empty the regions table inside the test's rolled-back transaction, so regions that other tests committed
    (e.g. a demo city) cannot change what these tests see; the rollback brings them back."""
    await session.execute(text("TRUNCATE regions CASCADE"))
    return session
