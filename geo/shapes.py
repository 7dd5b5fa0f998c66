"""Geometry checks for imported regions: GeoJSON → MultiPolygon, axis order, range, and bounded repair.

Axis order. GeoJSON is (longitude, latitude), but files exported from some tools arrive as (lat, lon). A bounding
box is judged *swapped* when either
  (a) it is out of range as given (|lon| > 180 or |lat| > 90) but in range with the axes exchanged, or
  (b) it is in range but lies outside China (lon 73–136, lat 3–54) while, axes exchanged, it lies inside China.
Rule (b) catches the common case where swapped Chinese data still looks valid (lat 73–90 is a real latitude).
It would misjudge genuine data between lon 3–54 and lat 73–90 (the Arctic north of Europe), where no Chinese
grid lies. The importer applies the rule to the whole file's box first, then to each feature's box.

Repair. An invalid polygon (self-intersection, bow-tie, spike…) is repaired with shapely's make_valid only when
the repaired polygonal area stays within 0.1% of the original. Areas are geodesic (pyproj.Geod on the WGS-84
ellipsoid), i.e. in square metres wherever the polygon is: no projection or UTM zone to choose, and no
latitude-dependent distortion as with areas in square degrees. The "original" area of an invalid ring is its
signed (shoelace-style) area, so the lobes of a bow-tie cancel: such a shape has no meaningful area, and its
repair is rejected rather than guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

import shapely
from pyproj import Geod
from shapely.geometry import LinearRing, MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry

CHINA_LON = (73.0, 136.0)
CHINA_LAT = (3.0, 54.0)
MAX_AREA_CHANGE = 0.001  # repair accepted when the polygonal area changes by at most 0.1%
POLYGONAL = ("Polygon", "MultiPolygon")

_GEOD = Geod(ellps="WGS84")


@dataclass(frozen=True, slots=True)
class BBox:
    min_x: float
    min_y: float
    max_x: float
    max_y: float

    def swapped(self) -> BBox:
        return BBox(self.min_y, self.min_x, self.max_y, self.max_x)

    def union(self, other: BBox) -> BBox:
        return BBox(min(self.min_x, other.min_x), min(self.min_y, other.min_y),
                    max(self.max_x, other.max_x), max(self.max_y, other.max_y))

    def in_range(self) -> bool:
        # Written so that NaN compares out of range.
        return -180.0 <= self.min_x and self.max_x <= 180.0 and -90.0 <= self.min_y and self.max_y <= 90.0

    def within(self, lon: tuple[float, float], lat: tuple[float, float]) -> bool:
        return lon[0] <= self.min_x and self.max_x <= lon[1] and lat[0] <= self.min_y and self.max_y <= lat[1]

    def describe(self) -> str:
        return f"x {self.min_x:g}..{self.max_x:g}, y {self.min_y:g}..{self.max_y:g}"


def looks_swapped(box: BBox) -> bool:
    """The documented axis-order rule (module docstring)."""
    if not box.in_range():
        return box.swapped().in_range()
    return not box.within(CHINA_LON, CHINA_LAT) and box.swapped().within(CHINA_LON, CHINA_LAT)


class ShapeError(ValueError):
    """A geometry that cannot be accepted; the message is the reason shown to the user."""


def parse_polygonal(geometry: object) -> Polygon | MultiPolygon:
    """GeoJSON geometry → 2D shapely Polygon/MultiPolygon (possibly invalid, not yet repaired)."""
    if geometry is None:
        raise ShapeError("missing geometry (null)")
    if not isinstance(geometry, dict):
        raise ShapeError("geometry is not a GeoJSON object")
    gtype = geometry.get("type")
    if gtype not in POLYGONAL:
        raise ShapeError(f"non-polygon geometry {gtype!r}: only Polygon and MultiPolygon are accepted")
    try:
        geom = shape(geometry)
    except Exception as exc:  # shapely reports malformed coordinate arrays with several exception types
        raise ShapeError(f"malformed {gtype} coordinates: {exc}") from exc
    if geom.is_empty:
        raise ShapeError("empty geometry")
    if not isinstance(geom, (Polygon, MultiPolygon)):  # shape() follows "type", checked above
        raise ShapeError(f"non-polygon geometry {geom.geom_type!r}: only Polygon and MultiPolygon are accepted")
    coords = geometry.get("coordinates")
    problem = _ring_problem(coords if gtype == "MultiPolygon" else [coords])
    if problem:
        raise ShapeError(f"malformed {gtype} coordinates: {problem}")
    if shapely.has_z(geom):
        geom = shapely.force_2d(geom)
    return geom


def _ring_problem(polygons: object) -> str | None:
    """What shapely lets through: a ring shorter than GeoJSON's 4 positions (shapely silently closes a ring by
    repeating its first point; GeoJSON wants first = last), and a ring or polygon that is null (shapely skips a
    null hole)."""
    if not isinstance(polygons, (list, tuple)):
        return "not an array of polygons"
    for poly in polygons:
        if not isinstance(poly, (list, tuple)):
            return "a polygon is not an array of rings"
        for ring in poly:
            if not isinstance(ring, (list, tuple)):
                return "a ring is not an array of positions"
            if len(ring) < 4:
                return "a ring needs at least 4 positions"
    return None


def bbox_of(geom: BaseGeometry) -> BBox:
    coords = shapely.get_coordinates(geom)
    xs, ys = coords[:, 0], coords[:, 1]
    # min()/max() of an array with NaN is NaN, which in_range() then rejects.
    return BBox(float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max()))


def _ring_area(ring: LinearRing) -> float:
    xs, ys = ring.coords.xy
    area, _ = _GEOD.polygon_area_perimeter(xs, ys)
    return area


def geodesic_area(geom: BaseGeometry) -> float:
    """Area in m²: per polygon |shell| − Σ|holes|, each ring's area signed by its own winding (see module doc)."""
    total = 0.0
    for poly in getattr(geom, "geoms", [geom]):
        if not isinstance(poly, Polygon) or poly.is_empty:
            continue
        total += abs(_ring_area(poly.exterior)) - sum(abs(_ring_area(r)) for r in poly.interiors)
    return total


def _polygonal_parts(geom: BaseGeometry) -> list[Polygon]:
    if isinstance(geom, Polygon):
        return [geom] if not geom.is_empty else []
    if hasattr(geom, "geoms"):
        return [p for g in geom.geoms for p in _polygonal_parts(g)]
    return []  # lines and points that make_valid leaves from spikes and collapsed parts


def to_valid_multipolygon(geom: Polygon | MultiPolygon) -> tuple[MultiPolygon, bool]:
    """Valid MultiPolygon and whether it was repaired; ShapeError if the repair would change the area > 0.1%."""
    if geom.is_valid:
        return (geom if isinstance(geom, MultiPolygon) else MultiPolygon([geom])), False
    reason = shapely.is_valid_reason(geom)
    parts = _polygonal_parts(shapely.make_valid(geom))
    repaired = MultiPolygon(parts) if parts else MultiPolygon()
    before, after = geodesic_area(geom), geodesic_area(repaired)
    if before <= 0 or repaired.is_empty or not repaired.is_valid:
        raise ShapeError(f"invalid polygon ({reason}) that cannot be repaired: it has no meaningful area")
    change = abs(after - before) / before
    if change > MAX_AREA_CHANGE:
        raise ShapeError(f"invalid polygon ({reason}): repair would change its area by {change:.2%} "
                         f"(limit {MAX_AREA_CHANGE:.1%})")
    return repaired, True
