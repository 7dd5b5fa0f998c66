"""The coordinate reference system of a region file, and its coordinates carried to WGS-84 (EPSG:4326) by pyproj.

Choosing the CRS. The one the caller gives (`--crs`) wins; else the file's own (.prj, a GeoPackage's srs, KML and
GeoJSON are WGS-84); a file with neither is refused, with a suggestion when its coordinates look like a
Gauss–Krüger zone. Coordinates are then checked against the CRS before anything is transformed:

* Degrees against metres: a geographic CRS with coordinates beyond ±180/±90, or a projected one whose coordinates
  all lie within them, is refused.
* Gauss–Krüger zone prefix. China's 3° and 6° zones come in two forms: with the zone number in front of the
  easting (EPSG:4513–4533, 3° zones 25–45; EPSG:4491–4501, 6° zones 13–23; false easting zone × 10⁶ + 500 000 m)
  and without (the "CM" variants, EPSG:4534–4554 and 4502–4512, false easting 500 000 m). Files often carry the
  one while their .prj names the other. The eastings say which: from 13 × 10⁶ m up the millions are the zone number
  (China's zones are 13–23 and 25–45), below that there is none (500 000 m ± a zone's half-width; a point far
  from its meridian may pass 10⁶). A prefix that matches the CRS's central meridian (3° zone n: 3n°E,
  6° zone n: 6n−3°E) is removed, a missing one added; a prefix naming another meridian, or eastings spanning
  several zones, is refused. Northings in the X column (surveying order) are refused too.
* The transformation. pyproj's candidates for the file's area (TransformerGroup with an area of interest), the
  first (PROJ's best) taken. A "ballpark" one (coordinates carried over unchanged, accuracy unknown) is accepted
  only from CGCS2000 or WGS-84 itself, which agree at the metre level; from any other datum (Xi'an 1980 anywhere,
  Beijing 1954 outside the basins EPSG has parameters for) it would be tens to hundreds of metres off, so the
  file is refused until a CRS with its transformation (`+towgs84=…`) is given.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from pyproj.transformer import AreaOfInterest, TransformerGroup
from shapely.geometry.base import BaseGeometry

WGS84 = CRS.from_epsg(4326)
ZONE_WIDTH_M = 1_000_000.0  # the prefix counts millions of metres
FIRST_ZONE = 13  # China's first zone number (6° zone 13, central meridian 75°E)
_TM_METHODS = ("Transverse Mercator", "Gauss-Kruger", "Gauss Kruger")
# Datums a ballpark (null) transformation to WGS-84 is right for: CGCS2000 is an ITRF frame like WGS-84's.
_BALLPARK_DATUMS = ("China 2000", "World Geodetic System 1984")
_MAX_NORTHING = 10_002_000.0  # from the equator to the pole; an "easting" above this is a prefixed one


class CrsProblem(ValueError):
    """The file's coordinates cannot be carried to WGS-84 as they are; the message says what to give."""


@dataclass(frozen=True, slots=True)
class Bounds:
    min_x: float
    min_y: float
    max_x: float
    max_y: float

    @classmethod
    def of(cls, geoms: Sequence[BaseGeometry | None]) -> Bounds | None:
        present = [g for g in geoms if g is not None and not g.is_empty]
        if not present:
            return None
        x0, y0, x1, y1 = (float(v) for v in shapely.total_bounds(present))
        return cls(x0, y0, x1, y1) if all(math.isfinite(v) for v in (x0, y0, x1, y1)) else None

    def describe(self) -> str:
        return f"x {self.min_x:.10g}..{self.max_x:.10g}, y {self.min_y:.10g}..{self.max_y:.10g}"


@dataclass(slots=True)
class SourceCrs:
    """What the coordinates were taken to be and how they reach WGS-84."""

    crs: CRS
    origin: str  # "file", "--crs", or "--crs (the file says …)"
    easting_shift_m: float = 0.0  # added to every x before transforming (a zone prefix removed or added)
    operation: str = ""
    accuracy_m: float | None = None  # PROJ's figure for the operation; None when unknown (ballpark)
    notes: list[str] = field(default_factory=list)
    transformer: Transformer | None = None

    def describe(self) -> str:
        code = self.crs.to_epsg(min_confidence=90)
        return f"{self.crs.name}{f' (EPSG:{code})' if code else ''}"


def parse_crs(text: str) -> CRS:
    """An EPSG code ("4528", "EPSG:4528"), WKT or a PROJ string."""
    value = text.strip()
    try:
        return CRS.from_epsg(int(value)) if value.isdigit() else CRS.from_user_input(value)
    except CRSError as exc:
        raise CrsProblem(f"--crs {text!r} is not a coordinate reference system pyproj knows ({exc})") from exc


def _tm_parameters(crs: CRS) -> tuple[float, float] | None:
    """(false easting, central meridian) of a Transverse Mercator (Gauss–Krüger) CRS, else None."""
    base = crs.source_crs if crs.is_bound and crs.source_crs is not None else crs
    op = base.coordinate_operation
    if not base.is_projected or op is None or op.method_name not in _TM_METHODS:
        return None
    params = {p.code: p.value for p in op.params}
    if "8806" not in params or "8802" not in params:
        return None
    return float(params["8806"]), float(params["8802"])


def _zone_prefix(easting: float) -> int:
    """The zone number in front of an easting; 0 when it carries none (China's zones are 13–23 and 25–45, so
    millions below 13 are the easting of a point far from its central meridian, not a zone)."""
    zone = int(easting // ZONE_WIDTH_M)
    return zone if zone >= FIRST_ZONE else 0


def _zone_meridians(zone: int) -> tuple[int, int]:
    """Central meridians a zone number stands for: as a 3° zone and as a 6° zone."""
    return 3 * zone, 6 * zone - 3


def suggest_gk(bounds: Bounds) -> str:
    """A hint for a file without a (right) CRS whose coordinates look like China's Gauss–Krüger zones."""
    zone = int(bounds.min_x // ZONE_WIDTH_M)
    if zone != int(bounds.max_x // ZONE_WIDTH_M) or not 0 < bounds.min_y < _MAX_NORTHING:
        return ""
    if 25 <= zone <= 45:
        return (f"; the eastings carry 3° Gauss–Krüger zone {zone} (central meridian {3 * zone}°E): for CGCS2000 "
                f"that is EPSG:{4513 + zone - 25}")
    if 13 <= zone <= 23:
        return (f"; the eastings carry 6° Gauss–Krüger zone {zone} (central meridian {6 * zone - 3}°E): for "
                f"CGCS2000 that is EPSG:{4491 + zone - 13}")
    if zone == 0:
        return ("; the eastings carry no zone number: for CGCS2000 3° zones give EPSG:4534–4554 by central "
                "meridian (75°E … 135°E), 6° zones EPSG:4502–4512")
    return ""


def _check_units(crs: CRS, bounds: Bounds) -> None:
    degrees = -180.0 <= bounds.min_x and bounds.max_x <= 180.0 and -90.0 <= bounds.min_y and bounds.max_y <= 90.0
    if crs.is_geographic and not degrees and (abs(bounds.min_x) > 360 or abs(bounds.max_x) > 360):
        raise CrsProblem(f"the coordinates ({bounds.describe()}) are not degrees but the CRS, {crs.name}, is "
                         f"geographic: give the projected CRS with --crs{suggest_gk(bounds)}")
    if crs.is_projected and degrees:
        raise CrsProblem(f"the coordinates ({bounds.describe()}) look like degrees but the CRS, {crs.name}, is "
                         "projected (metres): give the right one with --crs (EPSG:4490 for CGCS2000 longitude/"
                         "latitude)")


def _gauss_kruger_shift(crs: CRS, bounds: Bounds, notes: list[str]) -> float:
    """Metres to add to every easting so the file's coordinates match the CRS's zone form (module docstring)."""
    tm = _tm_parameters(crs)
    if tm is None:
        return 0.0
    false_easting, meridian = tm
    if bounds.min_y >= _MAX_NORTHING or (ZONE_WIDTH_M <= bounds.min_x and bounds.max_x < _MAX_NORTHING
                                         and bounds.max_y < ZONE_WIDTH_M):
        raise CrsProblem(f"the coordinates ({bounds.describe()}) hold northings in X and eastings in Y (the "
                         "surveying order): export the file with X = easting, Y = northing")
    crs_zone = int(false_easting // ZONE_WIDTH_M)
    data_zone = _zone_prefix(bounds.min_x)
    if data_zone != _zone_prefix(bounds.max_x):
        raise CrsProblem(f"the eastings ({bounds.describe()}) span several Gauss–Krüger zones or none: one file "
                         "holds one zone, with or without the zone number in front")
    if data_zone == crs_zone:
        return 0.0
    if data_zone == 0:
        notes.append(f"the eastings carry no zone number while {crs.name} puts {crs_zone} in front: "
                     f"{crs_zone * ZONE_WIDTH_M:.0f} m added to every easting")
        return crs_zone * ZONE_WIDTH_M
    meridians = _zone_meridians(data_zone)
    if crs_zone == 0 and any(math.isclose(m, meridian) for m in meridians):
        notes.append(f"the eastings carry zone number {data_zone} (central meridian {meridian:g}°E) while "
                     f"{crs.name} has none: {data_zone * ZONE_WIDTH_M:.0f} m taken off every easting")
        return -data_zone * ZONE_WIDTH_M
    raise CrsProblem(f"the eastings carry Gauss–Krüger zone number {data_zone} (central meridian "
                     f"{meridians[0]}°E as a 3° zone, {meridians[1]}°E as a 6° zone) but {crs.name} has central "
                     f"meridian {meridian:g}°E{f' (zone {crs_zone})' if crs_zone else ''}: give the file's CRS "
                     f"with --crs{suggest_gk(bounds)}")


def _area_of_interest(crs: CRS, bounds: Bounds, shift: float) -> AreaOfInterest:
    geographic = crs.geodetic_crs or WGS84
    to_geo = Transformer.from_crs(crs, geographic, always_xy=True)
    west, south, east, north = to_geo.transform_bounds(bounds.min_x + shift, bounds.min_y,
                                                       bounds.max_x + shift, bounds.max_y)
    if not all(math.isfinite(v) for v in (west, south, east, north)):
        raise CrsProblem(f"the coordinates ({bounds.describe()}) lie outside what {crs.name} can project")
    return AreaOfInterest(west, south, east, north)


def _is_ballpark(transformer: Transformer) -> bool:
    return "ballpark" in transformer.description.lower()


def _choose_transformer(crs: CRS, aoi: AreaOfInterest | None) -> tuple[Transformer, str, float | None]:
    group = TransformerGroup(crs, WGS84, always_xy=True, area_of_interest=aoi)
    if not group.transformers:
        raise CrsProblem(f"PROJ knows no transformation from {crs.name} to WGS-84 for this area")
    best = group.transformers[0]
    datum = crs.geodetic_crs.datum.name if crs.geodetic_crs and crs.geodetic_crs.datum else ""
    if _is_ballpark(best) and not datum.startswith(_BALLPARK_DATUMS):
        raise CrsProblem(
            f"PROJ defines no transformation from {datum or crs.name} to WGS-84 for this area, only a 'ballpark' "
            "one that carries the coordinates over unchanged and is tens to hundreds of metres off for this datum; "
            "give the CRS with the surveying office's transformation parameters, e.g. "
            "--crs '+proj=tmerc +lat_0=0 +lon_0=120 +k=1 +x_0=40500000 +y_0=0 +a=6378140 +rf=298.257 "
            "+towgs84=dx,dy,dz,rx,ry,rz,ds +units=m' for a Xi'an 1980 3° zone 40 file")
    accuracy = best.accuracy if best.accuracy is not None and best.accuracy >= 0 else None
    steps = [s for s in best.description.split(" + ") if not s.startswith("axis order change")]
    return best, " + ".join(steps) or "none (already WGS-84)", accuracy


def resolve(*, file_crs: str | None, given: str | None, bounds: Bounds | None) -> SourceCrs:
    """The source CRS, the easting correction and the transformation; CrsProblem when the file must be refused."""
    if given is not None:
        crs = parse_crs(given)
        origin = "--crs"
        if file_crs is not None:
            try:
                same = CRS.from_user_input(file_crs).equals(crs, ignore_axis_order=True)
            except CRSError:
                same = False
            if not same:
                origin = f"--crs (the file says {CRS.from_user_input(file_crs).name})" if _parses(file_crs) \
                    else "--crs (the file's CRS is not one pyproj reads)"
    elif file_crs is not None:
        try:
            crs = CRS.from_user_input(file_crs)
        except CRSError as exc:
            raise CrsProblem(f"the file's CRS is not one pyproj reads ({exc}): give it with --crs") from exc
        origin = "file"
    else:
        hint = suggest_gk(bounds) if bounds is not None else ""
        raise CrsProblem("the file has no coordinate reference system (a Shapefile's .prj is missing): give it "
                         f"with --crs, e.g. --crs EPSG:4528{hint}")
    source = SourceCrs(crs=crs, origin=origin)
    aoi = None
    if bounds is not None:
        _check_units(crs, bounds)
        source.easting_shift_m = _gauss_kruger_shift(crs, bounds, source.notes)
        aoi = _area_of_interest(crs, bounds, source.easting_shift_m)
    source.transformer, source.operation, source.accuracy_m = _choose_transformer(crs, aoi)
    return source


def _parses(text: str) -> bool:
    try:
        CRS.from_user_input(text)
    except CRSError:
        return False
    return True


def to_wgs84(geoms: Sequence[BaseGeometry | None], source: SourceCrs) -> list[BaseGeometry | None]:
    """Every geometry carried to WGS-84 longitude/latitude; a point PROJ cannot transform becomes inf (and the
    validation then reports the feature as out of range)."""
    transformer = source.transformer
    if transformer is None:
        raise ValueError("resolve() sets the transformer")
    shift = source.easting_shift_m

    def carry(xy: NDArray[np.float64]) -> NDArray[np.float64]:  # shapely hands an (N, 2) copy
        x, y = transformer.transform(xy[:, 0] + shift, xy[:, 1], errcheck=False)
        xy[:, 0] = x
        xy[:, 1] = y
        return xy

    return [None if g is None else shapely.transform(g, carry) for g in geoms]
