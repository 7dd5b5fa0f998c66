"""Region files on the admin console: the same check and import as `gridcmd import-regions` (geo/region_files.py),
plus a preview for the map: each feature of the file as added (a new code) / changed (a stored code whose name,
parent or shape differs) / unchanged, and the stored regions under the file's regions that the file does not
carry (listed as "not in file": the import never deletes them).

The web processes are stateless, so nothing is kept between check and apply: the browser sends the same file again
with the SHA-256 the check reported, and apply refuses any other file. A region admin may only check and apply
files whose every region lies inside their region."""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import mapping
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from command.admin.admin_scope import admin_region
from command.core.errors import Conflict, Forbidden, InvalidInput
from command.core.scoping import array_contains
from command.core.security import Principal
from geo.errors import GeoInputError
from geo.imports import Progress
from geo.models import Region
from geo.region_files import ReadOptions, RegionFileCheck, check_region_file, import_region_file

SUFFIXES = (".geojson", ".json", ".shp", ".zip", ".gpkg", ".kml", ".kmz")
# Preview geometry is simplified to about this many degrees (≈1 m) to keep the answer small.
PREVIEW_TOLERANCE = 0.00001


@dataclass(slots=True)
class RegionPreview:
    sha256: str
    report: dict[str, Any]
    features: list[dict[str, Any]] = field(default_factory=list)
    not_in_file: list[dict[str, Any]] = field(default_factory=list)


def _suffix(filename: str) -> str:
    suffix = Path(filename).suffix.lower()
    if suffix not in SUFFIXES:
        raise InvalidInput(f"a region file must be one of {', '.join(SUFFIXES)}, not {filename!r}")
    return suffix


def report_of(check: RegionFileCheck) -> dict[str, Any]:
    return {"ok": check.ok, "format": check.format, "layer": check.layer, "features": check.features,
            "encoding": check.encoding, "source_crs": check.source_crs, "crs_origin": check.crs_origin,
            "operation": check.operation, "accuracy_m": check.accuracy_m, "notes": check.notes,
            "problems": check.problems, "new": check.new, "updated": check.updated, "lines": check.lines()}


async def _stored_shapes(session: AsyncSession, codes: list[str]) -> dict[str, tuple[str, str | None, bytes]]:
    parent = Region.__table__.alias("parent")
    rows = await session.execute(
        select(Region.code, Region.name, parent.c.code, func.ST_AsBinary(Region.geom))
        .outerjoin(parent, parent.c.id == Region.parent_id).where(Region.code.in_(codes)))
    return {code: (name, parent_code, bytes(wkb)) for code, name, parent_code, wkb in rows}


async def _scope_check(session: AsyncSession, principal: Principal, features: list[Any]) -> None:
    """A region admin's file may only hold regions inside their region (by the parent chain it will get)."""
    limit = admin_region(principal)
    if limit is None:
        return
    codes = {f.code for f in features}
    for f in features:
        parent = f.parent_code
        while parent in codes:  # walk up inside the file to the first stored parent
            parent = next(g.parent_code for g in features if g.code == parent)
        path = await session.scalar(select(Region.path).where(Region.code == parent)) if parent else None
        if f.code != limit and (path is None or limit not in path):
            raise Forbidden(f"region {f.code!r} would lie outside your region {limit!r}")


async def _preview(session: AsyncSession, check: RegionFileCheck) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    assert check._checked is not None
    valid, _ = check._checked
    stored = await _stored_shapes(session, [f.code for f in valid])
    features = []
    for f in valid:
        status = "added"
        if f.code in stored:
            name, parent, wkb = stored[f.code]
            same = name == f.name and parent == f.parent_code and shapely.from_wkb(wkb).equals(f.geom)
            status = "unchanged" if same else "changed"
        features.append({"type": "Feature", "geometry": mapping(f.geom.simplify(PREVIEW_TOLERANCE)),
                         "properties": {"code": f.code, "name": f.name, "level": f.level,
                                        "parent": f.parent_code, "status": status, "feature": f.index}})
    file_codes = {f.code for f in valid}
    tops = [f.code for f in valid if f.parent_code not in file_codes and f.code in stored]
    missing: list[dict[str, Any]] = []
    for top in tops:
        rows = await session.execute(
            select(Region.code, Region.name, Region.level, func.ST_AsGeoJSON(
                func.ST_SimplifyPreserveTopology(Region.geom, PREVIEW_TOLERANCE)))
            .where(array_contains(Region.path, top), Region.code.not_in(file_codes)))
        missing.extend({"code": c, "name": n, "level": lv, "geometry": g} for c, n, lv, g in rows)
    return features, missing


def _write(data: bytes, suffix: str, folder: str) -> Path:
    path = Path(folder) / f"regions{suffix}"
    path.write_bytes(data)
    return path


async def check_upload(session: AsyncSession, principal: Principal, *, data: bytes, filename: str,
                       options: ReadOptions) -> RegionPreview:
    """The validation report feature by feature and, when the file is good, the map preview. Writes nothing."""
    suffix = _suffix(filename)
    digest = hashlib.sha256(data).hexdigest()
    with tempfile.TemporaryDirectory(prefix="gridcmd-regions-") as folder:
        check = await check_region_file(session, path=_write(data, suffix, folder), options=options)
    check.path = filename
    preview = RegionPreview(sha256=digest, report=report_of(check))
    if check.ok and check._checked is not None:
        await _scope_check(session, principal, check._checked[0])
        preview.features, preview.not_in_file = await _preview(session, check)
    return preview


async def apply_upload(session: AsyncSession, principal: Principal, *, data: bytes, filename: str,
                       options: ReadOptions, expect_sha256: str,
                       on_progress: Progress | None = None) -> dict[str, Any]:
    """Import the file that was checked (same SHA-256) in the caller's transaction: all regions or none;
    `on_progress(done, total)` as the regions are written."""
    suffix = _suffix(filename)
    if hashlib.sha256(data).hexdigest() != expect_sha256.lower():
        raise Conflict("this is not the file that was checked; check it again before applying")
    with tempfile.TemporaryDirectory(prefix="gridcmd-regions-") as folder:
        path = _write(data, suffix, folder)
        check = await check_region_file(session, path=path, options=options)
        if check._checked is None:
            raise GeoInputError(f"{len(check.problems)} error(s) in the region file; nothing was imported",
                                details=check.problems)
        await _scope_check(session, principal, check._checked[0])
        if on_progress is not None:
            await on_progress(0, len(check._checked[0]))
        done = await import_region_file(session, path=path, options=options, on_progress=on_progress)
    w = done.written
    return {"inserted": w.inserted, "updated": w.updated, "repaired": w.repaired,
            "descendants_repathed": w.descendants_repathed, "seconds": round(w.seconds, 3),
            "codes": [f.code for f in check._checked[0]]}
