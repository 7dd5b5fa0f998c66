"""Region files as they are delivered (Shapefile, GeoPackage, KML, GeoJSON) → checked → imported.

    read (geo/file_reader.py, GDAL) → map attributes (geo/attributes.py, --map)
    → carry coordinates to WGS-84 (geo/source_crs.py, pyproj) → a GeoJSON FeatureCollection
    → the project's region rules (geo/validate.py via geo/imports.validate_against_db) → write (geo/imports.py)

`check_region_file` does everything but the write and returns the report (what the file is, how its coordinates
were taken, every problem in the shape GeoInputError carries, how many regions would be new or updated);
`import_region_file` writes only when that report has no problem. Feature numbers are the file's own order from
0 (a Shapefile's FID).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import GeometryCollection, MultiPolygon, Polygon, mapping
from shapely.geometry.base import BaseGeometry
from sqlalchemy.ext.asyncio import AsyncSession

from geo.attributes import AttributeMap, MappingProblem
from geo.errors import GeoInputError
from geo.file_reader import FileProblem, RawLayer, read_layer
from geo.imports import ImportReport, Progress, validate_against_db, write_regions
from geo.source_crs import Bounds, CrsProblem, SourceCrs, resolve, to_wgs84
from geo.validate import ValidRegion


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """How to read a file: the command line's --layer, --encoding, --crs and --map."""

    layer: str | None = None
    encoding: str | None = None
    crs: str | None = None
    attribute_map: str | None = None


@dataclass(slots=True)
class RegionFileCheck:
    """The validation report of one file, before anything is written."""

    path: str
    format: str | None = None
    layer: str | None = None
    encoding: str | None = None
    features: int = 0
    source_crs: str | None = None
    crs_origin: str | None = None
    operation: str | None = None
    accuracy_m: float | None = None
    notes: list[str] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)
    new: int = 0
    updated: int = 0
    _checked: tuple[list[ValidRegion], dict[str, tuple[str, list[str], str]]] | None = field(default=None,
                                                                                              repr=False)

    @property
    def ok(self) -> bool:
        return not self.problems and self._checked is not None

    def lines(self) -> list[str]:
        """What a person reads before confirming: the file, its CRS, the transformation and its accuracy."""
        if self.format is None:
            return [f"{self.path}: not read"]
        out = [f"{self.path}: {self.format} layer {self.layer!r}, {self.features} features"
               + (f", attributes read as {self.encoding}" if self.encoding else "")]
        if self.source_crs:
            accuracy = f"{self.accuracy_m:g} m" if self.accuracy_m is not None else "not stated by PROJ"
            out.append(f"  CRS {self.source_crs} (from {self.crs_origin}) → WGS-84 by: {self.operation} "
                       f"(accuracy {accuracy})")
        out.extend(f"  note: {n}" for n in self.notes)
        return out


@dataclass(frozen=True, slots=True)
class RegionFileImport:
    check: RegionFileCheck
    written: ImportReport


def _file_problem(check: RegionFileCheck, reason: str) -> RegionFileCheck:
    check.problems.append({"feature": None, "code": None, "reason": reason})
    return check


def _polygonal(geom: BaseGeometry | None) -> BaseGeometry | None:
    """A KML MultiGeometry of polygons arrives as a GeometryCollection: it is a MultiPolygon."""
    if isinstance(geom, GeometryCollection) and not geom.is_empty and all(
            isinstance(g, (Polygon, MultiPolygon)) for g in geom.geoms):
        return MultiPolygon([p for g in geom.geoms for p in getattr(g, "geoms", [g])])
    return geom


def _geometries(layer: RawLayer) -> tuple[list[BaseGeometry | None], dict[int, str]]:
    """Shapely geometries, and the reason for each WKB shapely cannot read (by feature index)."""
    geoms: list[BaseGeometry | None] = list(shapely.from_wkb(layer.wkb, on_invalid="ignore"))
    unreadable: dict[int, str] = {}
    for i, (geom, wkb) in enumerate(zip(geoms, layer.wkb, strict=True)):
        if geom is None and wkb is not None:
            try:
                shapely.from_wkb(wkb)
            except Exception as exc:  # shapely/GEOS report a malformed WKB with several exception types
                unreadable[i] = f"malformed geometry: {exc}"
            else:
                unreadable[i] = "malformed geometry"
    return [_polygonal(g) for g in geoms], unreadable


def read_region_file(path: str | Path, options: ReadOptions) -> tuple[RegionFileCheck, dict[str, Any] | None,
                                                                     dict[int, str]]:
    """Read, map and reproject (no database): the report so far, the FeatureCollection in WGS-84 (None when the
    file itself is refused) and the features whose geometry could not be read."""
    check = RegionFileCheck(path=str(path))
    try:
        attribute_map = AttributeMap.parse(options.attribute_map)
        layer = read_layer(path, layer=options.layer, encoding=options.encoding)
    except (FileProblem, MappingProblem) as exc:
        return _file_problem(check, str(exc)), None, {}
    check.format, check.layer, check.encoding, check.features = (layer.format, layer.layer, layer.encoding,
                                                                  layer.feature_count)
    try:
        bound = attribute_map.bind(layer.fields)
    except MappingProblem as exc:
        return _file_problem(check, str(exc)), None, {}
    geoms, unreadable = _geometries(layer)
    try:
        source: SourceCrs = resolve(file_crs=layer.crs, given=options.crs, bounds=Bounds.of(geoms))
    except CrsProblem as exc:
        return _file_problem(check, str(exc)), None, {}
    check.source_crs, check.crs_origin = source.describe(), source.origin
    check.operation, check.accuracy_m, check.notes = source.operation, source.accuracy_m, source.notes
    skip = layer.builtin_fields()
    features = []
    for i, geom in enumerate(to_wgs84(geoms, source)):
        row = {name: column[i] for name, column in zip(layer.fields, layer.columns, strict=True)}
        features.append({"type": "Feature", "properties": bound.properties(row, skip),
                         "geometry": None if geom is None else mapping(geom)})
    return check, {"type": "FeatureCollection", "features": features}, unreadable


async def check_region_file(session: AsyncSession, *, path: str | Path,
                            options: ReadOptions = ReadOptions()) -> RegionFileCheck:
    """Every check, file and database, without writing; the report lists every problem (none → importable)."""
    check, collection, unreadable = await asyncio.to_thread(read_region_file, path, options)
    if collection is None:
        return check
    try:
        valid, stored = await validate_against_db(session, collection)
    except GeoInputError as exc:
        problems = exc.details if isinstance(exc.details, list) else [{"feature": None, "code": None,
                                                                        "reason": exc.message}]
        for p in problems:  # GDAL handed a geometry shapely cannot read: say so rather than "null"
            if p["feature"] in unreadable and str(p["reason"]).startswith("missing geometry"):
                p["reason"] = unreadable[p["feature"]]
        check.problems = problems
        return check
    check.updated = sum(1 for f in valid if f.code in stored)
    check.new = len(valid) - check.updated
    check._checked = (valid, stored)
    return check


async def import_region_file(session: AsyncSession, *, path: str | Path, options: ReadOptions = ReadOptions(),
                             progress: bool = False, on_progress: Progress | None = None) -> RegionFileImport:
    """Check, then write in a savepoint of the caller's transaction; GeoInputError (every problem) and nothing
    written when the check finds any."""
    started = time.perf_counter()  # the report's seconds cover reading and checking too
    check = await check_region_file(session, path=path, options=options)
    if check._checked is None:
        raise GeoInputError(f"{len(check.problems)} error(s) in the region file; nothing was imported",
                            details=check.problems)
    valid, stored = check._checked
    written = await write_regions(session, features=valid, stored=stored, progress=progress, started=started,
                                  on_progress=on_progress)
    return RegionFileImport(check, written)
