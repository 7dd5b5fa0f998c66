"""Invariants of the generated demo city: counts, validity, exact nesting, the enclave, determinism."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from functools import cache

import pytest
import shapely
from shapely.geometry import Polygon, shape
from shapely.strtree import STRtree

from command.demo.city import generate_city

TOL = 1e-9  # relative area tolerance for "covers exactly"


@cache
def city_of(seed: int) -> dict:
    return generate_city(seed)


@pytest.fixture(scope="module")
def city() -> dict:
    return city_of(7)


@pytest.fixture(scope="module")
def regions(city: dict) -> dict[str, tuple[dict, object]]:
    return {f["properties"]["code"]: (f["properties"], shape(f["geometry"])) for f in city["features"]}


def _children(regions: dict) -> dict[str, list]:
    kids: dict[str, list] = defaultdict(list)
    for props, geom in regions.values():
        kids[props["parent_code"]].append((props, geom))
    return kids


def test_counts_and_import_format(city: dict) -> None:
    levels = Counter(f["properties"]["level"] for f in city["features"])
    assert levels == {"district": 1, "street": 6, "community": 30, "grid": 300, "microgrid": 1500}
    codes = [f["properties"]["code"] for f in city["features"]]
    assert len(set(codes)) == len(codes)
    seen: set[str] = set()
    for f in city["features"]:  # parents come before their children, codes are hierarchical
        p = f["properties"]
        assert set(p) >= {"code", "name", "level", "parent_code"}
        assert p["parent_code"] == "" if p["level"] == "district" else p["parent_code"] in seen
        assert p["code"].startswith(p["parent_code"])
        seen.add(p["code"])
    json.dumps(city)  # serialisable as is


def test_geometries_valid_and_in_nanjing(regions: dict) -> None:
    for props, geom in regions.values():
        assert geom.is_valid, props
        assert geom.geom_type == ("MultiPolygon" if props["code"] == _enclave_owner(regions) else "Polygon"), props
    minx, miny, maxx, maxy = regions["320102"][1].bounds
    assert 118.6 < minx < maxx < 118.95 and 31.95 < miny < maxy < 32.15
    assert 13_000 < (maxx - minx) * 111_320 * 0.848 < 18_000 and 10_000 < (maxy - miny) * 111_320 < 14_500


def test_children_tile_their_parent_exactly(regions: dict) -> None:
    kids = _children(regions)
    for code, (props, parent) in regions.items():
        children = [g for _, g in kids.get(code, [])]
        if not children:
            assert props["level"] == "microgrid"
            continue
        union = shapely.unary_union(children)
        assert union.symmetric_difference(parent).area <= TOL * parent.area, code
        # No overlaps: the areas add up, and no two siblings overlap.
        assert abs(sum(c.area for c in children) - parent.area) <= TOL * parent.area, code
        tree = STRtree(children)
        a, b = tree.query(children, predicate="overlaps")
        assert not (a != b).any(), code


def test_not_a_lattice(regions: dict) -> None:
    grids = [g for p, g in regions.values() if p["level"] == "grid"]
    vertex_counts = Counter(len(g.exterior.coords) for g in grids)
    assert len(vertex_counts) > 5  # irregular shapes
    areas = sorted(g.area for g in grids)
    assert areas[-1] / areas[0] > 1.5  # not all the same size


def _enclave_owner(regions: dict) -> str:
    (props,) = [p for p, _ in regions.values() if "enclave_in" in p]
    return props["parent_code"]


def test_enclave_is_a_hole_of_the_other_street(regions: dict) -> None:
    (props, enclave) = next((p, g) for p, g in regions.values() if "enclave_in" in p)
    owner = regions[props["parent_code"]][1]
    host_props, host = regions[props["enclave_in"]]
    assert props["level"] == "community" and host_props["level"] == "street"
    assert props["parent_code"] != props["enclave_in"]
    assert owner.geom_type == "MultiPolygon" and len(owner.geoms) == 2
    assert owner.covers(enclave)
    assert len(host.interiors) == 1
    hole = Polygon(host.interiors[0])
    assert hole.symmetric_difference(enclave).area <= TOL * enclave.area
    assert not host.intersects(enclave.representative_point())
    assert host.touches(enclave)  # shares the hole's ring, no overlap


def test_deterministic_per_seed(city: dict) -> None:
    again = generate_city(7)
    assert json.dumps(again, sort_keys=True) == json.dumps(city, sort_keys=True)
    other = city_of(1)
    assert json.dumps(other["features"][0]["geometry"]) != json.dumps(city["features"][0]["geometry"])


def test_names_are_believable(regions: dict) -> None:
    names = {p["level"]: p["name"] for p, _ in regions.values()}
    assert names["street"].endswith("街道") and names["community"].endswith("社区")
    assert names["grid"].startswith("第") and names["grid"].endswith("网格")
    assert names["microgrid"].endswith("微网格")


@pytest.mark.parametrize("seed", [1, 2])
def test_other_seeds_also_valid(seed: int) -> None:
    fc = city_of(seed)
    assert Counter(f["properties"]["level"] for f in fc["features"])["microgrid"] == 1500
    geoms = [shape(f["geometry"]) for f in fc["features"]]
    assert all(g.is_valid for g in geoms)
    micro = [g for f, g in zip(fc["features"], geoms, strict=True) if f["properties"]["level"] == "microgrid"]
    assert abs(sum(g.area for g in micro) - geoms[0].area) <= TOL * geoms[0].area
    assert sum("enclave_in" in f["properties"] for f in fc["features"]) == 1
