"""A pure-shapely locate, the reference the PostGIS one is compared with. Same rule as geo/locate.py:
boundary-inclusive intersects, deepest level, then smallest code; outside, the regions within tolerance and
within 1 cm of the nearest, then deepest, then smallest code. Distances are geodesic (pyproj.Geod) to the
nearest boundary point found in a local plane scaled by cos(latitude)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from pyproj import Geod
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points

from geo.locate import TIE_M, search_radius_deg

_GEOD = Geod(ellps="WGS84")


@dataclass(frozen=True)
class RefRegion:
    code: str
    level: str
    depth: int
    path: tuple[str, ...]
    geom: BaseGeometry


class ShapelyLocator:
    def __init__(self, regions: list[RefRegion]) -> None:
        self.regions = regions
        self.tree = shapely.STRtree([r.geom for r in regions])

    def nearest_distance_m(self, lon: float, lat: float, geom: BaseGeometry) -> float:
        k = math.cos(math.radians(lat))

        def to_local(xy: np.ndarray) -> np.ndarray:
            return np.column_stack(((xy[:, 0] - lon) * k, xy[:, 1] - lat))

        _, near = nearest_points(Point(0.0, 0.0), shapely.transform(geom, to_local))
        return float(_GEOD.inv(lon, lat, lon + near.x / k, lat + near.y)[2])

    def locate(self, lon: float, lat: float, tolerance_m: float) -> tuple[bool, tuple[str, ...] | None, float]:
        """(outside, path of the winner top-down or None, distance in metres)."""
        p = Point(lon, lat)
        hits = self.tree.query(p, predicate="intersects")
        if len(hits):
            best = min((self.regions[i] for i in hits), key=lambda r: (-r.depth, r.code))
            return False, best.path, 0.0
        near = self.tree.query(p, predicate="dwithin", distance=search_radius_deg(lat, tolerance_m))
        dists = [(self.nearest_distance_m(lon, lat, self.regions[i].geom), self.regions[i]) for i in near]
        if not dists:
            return True, None, math.inf
        dmin = min(d for d, _ in dists)
        ties = [r for d, r in dists if d <= tolerance_m and d <= dmin + TIE_M]
        if not ties:
            return True, None, dmin
        best = min(ties, key=lambda r: (-r.depth, r.code))
        return True, best.path, dmin
