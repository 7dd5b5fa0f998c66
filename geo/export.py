"""Write rows with a geometry to a GeoJSON or GeoPackage file (GDAL through pyogrio), and read the geo tables as
such rows. Callers outside geo (the CLI's incident export, a later HTTP download) pass their own rows.

A row is a mapping: `geometry` (a shapely geometry, WGS-84 longitude/latitude) and any other keys, which become
the file's fields in the order they first appear. Values: str, int, float, bool and None as themselves; datetimes
and dates as ISO 8601 text (with their UTC offset); lists and dicts as JSON text. A column holding several kinds
of value is written as text. GeoJSON is written as RFC 7946 asks (WGS-84, no "crs" member, outer rings
counter-clockwise), coordinates to 9 decimals (0.1 mm); a GeoPackage layer carries EPSG:4326 and full precision.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import shapely
from numpy.typing import NDArray
from pyogrio import raw
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

DRIVERS = {"geojson": "GeoJSON", "gpkg": "GPKG"}
_SUFFIXES = {".geojson": "geojson", ".json": "geojson", ".gpkg": "gpkg"}


def format_of(path: str | Path, explicit: str | None = None) -> str:
    """"geojson" or "gpkg", from `explicit` or the file name; ValueError naming both when neither says."""
    if explicit is not None:
        if explicit not in DRIVERS:
            raise ValueError(f"unknown export format {explicit!r} (geojson or gpkg)")
        return explicit
    fmt = _SUFFIXES.get(Path(path).suffix.lower())
    if fmt is None:
        raise ValueError(f"cannot tell the format from {Path(path).name!r}: name it .geojson or .gpkg, or give "
                         "the format")
    return fmt


def _as_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, (list, tuple, dict)):
        return orjson.dumps(value).decode()
    return str(value)


def _column(values: list[object]) -> tuple[NDArray[Any], NDArray[np.bool_] | None]:
    """A typed array for pyogrio and the mask of its nulls (None when it has none)."""
    present = [v for v in values if v is not None]
    mask = np.array([v is None for v in values], dtype=bool)
    kinds = {type(v) for v in present}
    if kinds == {bool}:
        data: NDArray[Any] = np.array([bool(v) for v in values], dtype=bool)
    elif kinds and kinds <= {int}:
        data = np.array([v if v is not None else 0 for v in values], dtype=np.int64)
    elif kinds and kinds <= {int, float}:
        data = np.array([float(v) if v is not None else 0.0 for v in values],  # type: ignore[arg-type]
                        dtype=np.float64)
    else:
        return np.array([_as_text(v) for v in values], dtype=object), None  # None is a null string already
    return data, (mask if mask.any() else None)


def write_features(path: str | Path, rows: Sequence[Mapping[str, object]], *, layer: str,
                   fmt: str | None = None) -> int:
    """Write `rows` to `path` (replaced if it exists); returns the number of features written."""
    fmt = format_of(path, fmt)
    fields: list[str] = []
    for row in rows:
        fields.extend(k for k in row if k != "geometry" and k not in fields)
    geoms: list[BaseGeometry | None] = [row.get("geometry") for row in rows]  # type: ignore[misc]
    types = {g.geom_type for g in geoms if g is not None}
    columns = [_column([row.get(f) for row in rows]) for f in fields]
    masks = [m for _, m in columns]
    Path(path).unlink(missing_ok=True)
    raw.write(str(path), np.array(shapely.to_wkb(geoms), dtype=object), [c for c, _ in columns], fields,
              field_mask=masks if any(m is not None for m in masks) else None, layer=layer,
              driver=DRIVERS[fmt], geometry_type=types.pop() if len(types) == 1 else "Unknown", crs="EPSG:4326",
              encoding="UTF-8" if fmt == "gpkg" else None,
              layer_options={"RFC7946": "YES", "COORDINATE_PRECISION": "9"} if fmt == "geojson" else None)
    return len(rows)


def _row(columns: dict[str, object], properties: dict[str, Any] | None, wkb: bytes) -> dict[str, object]:
    """The table's columns, then each stored property not named like one of them, then the geometry."""
    row = dict(columns)
    for key, value in (properties or {}).items():
        row.setdefault(key, value)
    row["geometry"] = shapely.from_wkb(wkb)
    return row


async def region_rows(session: AsyncSession, *, level: str | None = None) -> list[dict[str, object]]:
    """Every region (or one level's), top-down by depth then code, with its stored properties as fields of their
    own: a file `gridcmd import-regions` reads back into the same rows (depth and path follow from the parents)."""
    result = await session.execute(text("""
        SELECT r.code, r.name, r.level, p.code AS parent_code, r.properties, ST_AsBinary(r.geom) AS wkb
        FROM regions r LEFT JOIN regions p ON p.id = r.parent_id
        WHERE CAST(:level AS varchar) IS NULL OR r.level = :level
        ORDER BY r.depth, r.code COLLATE "C"
    """), {"level": level})
    return [_row({"code": r.code, "name": r.name, "level": r.level, "parent_code": r.parent_code}, r.properties,
                 r.wkb) for r in result]


async def resource_rows(session: AsyncSession, *, kind: str | None = None) -> list[dict[str, object]]:
    """Resource points (hydrants, shelters…) by id, their properties as fields of their own."""
    result = await session.execute(text("""
        SELECT id, kind, name, region_code, properties, ST_AsBinary(geom) AS wkb FROM resource_points
        WHERE CAST(:kind AS varchar) IS NULL OR kind = :kind ORDER BY id
    """), {"kind": kind})
    return [_row({"id": r.id, "kind": r.kind, "name": r.name, "region_code": r.region_code}, r.properties, r.wkb)
            for r in result]
