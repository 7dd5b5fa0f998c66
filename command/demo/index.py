"""Lookups over a generated city (codes, levels, children, point → micro-grid) for the demo loaders."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry
from shapely.strtree import STRtree

from command.demo.partition import sample_points


@dataclass(frozen=True, slots=True)
class Place:
    code: str
    name: str
    level: str
    parent_code: str
    geom: BaseGeometry


class CityIndex:
    def __init__(self, collection: dict[str, Any]) -> None:
        self.places: dict[str, Place] = {}
        self.children: dict[str, list[Place]] = defaultdict(list)
        for f in collection["features"]:
            p = f["properties"]
            place = Place(p["code"], p["name"], p["level"], p["parent_code"] or "", shape(f["geometry"]))
            self.places[place.code] = place
            if place.parent_code:
                self.children[place.parent_code].append(place)
        self._micro = self.level("microgrid")
        self._tree = STRtree([m.geom for m in self._micro])

    def level(self, level: str) -> list[Place]:
        return [p for p in self.places.values() if p.level == level]

    @property
    def district(self) -> Place:
        return self.level("district")[0]

    def microgrid_at(self, lon: float, lat: float) -> Place | None:
        hits = self._tree.query(Point(lon, lat), predicate="intersects")
        return self._micro[int(min(hits))] if len(hits) else None

    def ancestor(self, code: str, level: str) -> Place:
        place = self.places[code]
        while place.level != level:
            place = self.places[place.parent_code]
        return place

    def points_in(self, code: str, n: int, rng: np.random.Generator) -> list[tuple[float, float]]:
        """n random points inside a region, rounded to ~1 cm, kept off its border by a metre or so."""
        inner = self.places[code].geom.buffer(-1e-5)
        geom = inner if not inner.is_empty else self.places[code].geom
        return [(round(float(x), 7), round(float(y), 7)) for x, y in sample_points(geom, n, rng)]
