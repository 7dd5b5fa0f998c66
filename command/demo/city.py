"""The demo city: a deterministic, believable district as a GeoJSON FeatureCollection in the import format.

1 district → ~6 streets (街道) → 30 communities (社区) → 300 grids (网格) → 1,500 micro-grids (微网格),
each level a relaxed Voronoi partition of its parent, around Nanjing. One community of one street is an
enclave (飞地) inside another street, which has a hole where it sits. Every region is the exact union of
its micro-grids, which come from one noded line set, so shared borders are bit-identical and children
tile their parent with no gap or overlap."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from shapely.geometry import Point, Polygon, mapping
from shapely.geometry.base import BaseGeometry
from shapely.ops import polylabel

from command.demo import names
from command.demo.partition import Warp, allocate, exact_coverage, voronoi_partition

CENTRE = (118.78, 32.05)  # lon, lat: central Nanjing
HALF_AXES_M = (7500.0, 6000.0)  # about 15 × 12 km
GRID_DEG = 1e-7  # ~1 cm: every vertex sits on this grid
COUNTS = {"street": 6, "community": 30, "grid": 300, "microgrid": 1500}
ENCLAVE_RADIUS_M = 800.0
_M_PER_DEG_LAT = 111_320.0


@dataclass
class _Node:
    code: str
    name: str
    level: str
    parent: _Node | None
    geom: BaseGeometry  # metres while building; exact lon/lat at the end
    children: list[_Node] = field(default_factory=list)
    props: dict[str, Any] = field(default_factory=dict)


def _to_lonlat(xy: np.ndarray) -> np.ndarray:
    lon0, lat0 = CENTRE
    out = np.empty_like(xy)
    out[:, 0] = lon0 + xy[:, 0] / (_M_PER_DEG_LAT * math.cos(math.radians(lat0)))
    out[:, 1] = lat0 + xy[:, 1] / _M_PER_DEG_LAT
    return out


def _outline(rng: np.random.Generator) -> Polygon:
    """A wobbly ellipse: a few low harmonics of the radius make it look like a drawn boundary."""
    theta = np.linspace(0, 2 * np.pi, 240, endpoint=False)
    r = np.ones_like(theta)
    for k in range(2, 9):
        r += rng.uniform(0.02, 0.09) / math.sqrt(k) * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    r += rng.normal(0, 0.004, size=theta.shape)  # small kinks, as along roads and rivers
    a, b = HALF_AXES_M
    return Polygon(np.column_stack((a * r * np.cos(theta), b * r * np.sin(theta))))


def _blob(centre: Point, radius: float, rng: np.random.Generator) -> Polygon:
    theta = np.linspace(0, 2 * np.pi, 48, endpoint=False)
    r = radius * (1 + 0.15 * np.cos(3 * theta + rng.uniform(0, 6.3)) + 0.08 * np.cos(5 * theta + rng.uniform(0, 6.3)))
    return Polygon(np.column_stack((centre.x + r * np.cos(theta), centre.y + r * np.sin(theta))))


def _carve_enclave(streets: list[Polygon], rng: np.random.Generator) -> tuple[int, int, Polygon]:
    """Take a blob deep inside the largest street B and give it to a neighbouring street A."""
    b = max(range(len(streets)), key=lambda i: streets[i].area)
    neighbours = [i for i in range(len(streets)) if i != b and streets[i].distance(streets[b]) < 1.0]
    a = neighbours[int(rng.integers(len(neighbours)))]
    centre = polylabel(streets[b], tolerance=20.0)
    room = streets[b].exterior.distance(centre)
    blob = _blob(centre, min(ENCLAVE_RADIUS_M, 0.55 * room), rng)
    return a, b, blob


def _build_tree(seed: int) -> tuple[_Node, _Node, Warp]:
    rng = np.random.default_rng(seed)
    # Borders bend like roads and rivers: long gentle waves plus short ones.
    warp = Warp(rng, [(160.0, 5200.0), (110.0, 2900.0), (22.0, 900.0), (9.0, 420.0)])
    street_names = list(rng.permutation(names.STREETS))
    community_names = list(rng.permutation(names.COMMUNITIES))
    d_code, d_name = names.DISTRICT
    district = _Node(d_code, d_name, "district", None, _outline(rng))

    street_polygons = voronoi_partition(district.geom, COUNTS["street"], rng)
    ia, ib, blob = _carve_enclave(street_polygons, rng)
    street_geoms: list[BaseGeometry] = list(street_polygons)
    street_geoms[ib] = street_geoms[ib].difference(blob)
    streets = [
        _Node(f"{d_code}{i + 1:03d}", f"{street_names[i]}街道", "street", district, g)
        for i, g in enumerate(street_geoms)
    ]
    district.children = streets

    # Communities: in proportion to area; street A's enclave is one of its communities.
    areas = [s.geom.area + (blob.area if i == ia else 0) for i, s in enumerate(streets)]
    per_street = allocate(COUNTS["community"], areas, 3)
    enclave = None
    for i, (street, n) in enumerate(zip(streets, per_street, strict=True)):
        parts = voronoi_partition(street.geom, n - 1 if i == ia else n, rng)
        if i == ia:
            parts.append(blob)
        for j, g in enumerate(parts):
            short = community_names.pop(0)
            node = _Node(f"{street.code}{j + 1:03d}", f"{short}社区", "community", street, g, props={"short": short})
            street.children.append(node)
            if i == ia and j == len(parts) - 1:
                enclave = node
                node.props["enclave_in"] = streets[ib].code
    assert enclave is not None
    streets[ia].geom = shapely.union(streets[ia].geom, blob)

    communities = [c for s in streets for c in s.children]
    for comm, n in zip(communities, allocate(COUNTS["grid"], [c.geom.area for c in communities], 3), strict=True):
        for k, g in enumerate(voronoi_partition(comm.geom, n, rng)):
            node = _Node(f"{comm.code}{k + 1:02d}", f"第{k + 1}网格", "grid", comm, g, props={"no": k + 1})
            comm.children.append(node)

    grids = [(c, g) for c in communities for g in c.children]
    for (comm, grid), n in zip(grids, allocate(COUNTS["microgrid"], [g.geom.area for _, g in grids], 3), strict=True):
        short = comm.props["short"]
        for m, g in enumerate(voronoi_partition(grid.geom, n, rng, lloyd=2, jitter=0.3)):
            grid.children.append(
                _Node(f"{grid.code}{m + 1:02d}", f"{short}{grid.props['no']}-{m + 1}微网格", "microgrid", grid, g)
            )
    return district, enclave, warp


def _walk(node: _Node) -> list[_Node]:
    out = [node]
    for c in node.children:
        out.extend(_walk(c))
    return out


def _finalise(district: _Node, warp: Warp) -> None:
    """Exact lon/lat geometry: micro-grids from the noded coverage, every other level the union of its children."""
    nodes = _walk(district)
    leaves = [n for n in nodes if n.level == "microgrid"]
    exact = exact_coverage([n.geom for n in leaves], warp=warp, unwarp=warp.inverse, to_lonlat=_to_lonlat,
                           grid=GRID_DEG)
    for leaf, geom in zip(leaves, exact, strict=True):
        leaf.geom = geom
    for level in ("grid", "community", "street", "district"):
        for n in (x for x in nodes if x.level == level):
            n.geom = shapely.unary_union([c.geom for c in n.children], grid_size=GRID_DEG)


def generate_city(seed: int) -> dict[str, Any]:
    """A GeoJSON FeatureCollection (WGS-84) with properties code, name, level, parent_code; parents first.

    The enclave community carries `enclave_in` (the code of the street it lies inside)."""
    district, _, warp = _build_tree(seed)
    _finalise(district, warp)
    features: list[dict[str, Any]] = []
    for n in _walk(district):
        props = {"code": n.code, "name": n.name, "level": n.level, "parent_code": n.parent.code if n.parent else ""}
        if "enclave_in" in n.props:
            props["enclave_in"] = n.props["enclave_in"]
        features.append({"type": "Feature", "properties": props, "geometry": mapping(n.geom)})
    order = {"district": 0, "street": 1, "community": 2, "grid": 3, "microgrid": 4}
    features.sort(key=lambda f: order[f["properties"]["level"]])
    return {"type": "FeatureCollection", "name": f"demo-city-{seed}", "features": features}
