"""locate() on the small sample: the documented rule on borders, vertices and outside, and bad input."""

from __future__ import annotations

import math

import pytest

from geo.errors import GeoInputError
from geo.imports import import_regions
from geo.locate import locate
from tests.geo_samples import LAT0, LON0, STEP, sample, without_regions


@pytest.fixture
async def session(session):
    """The shared rolled-back session, starting from an empty regions table."""
    return await without_regions(session)


def at(x: float, y: float) -> tuple[float, float]:
    return LON0 + x * STEP, LAT0 + y * STEP


@pytest.fixture
async def tree(session):
    await import_regions(session, collection=sample())
    return session


async def where(session, x: float, y: float, tolerance_m: float = 200.0):
    lon, lat = at(x, y)
    return await locate(session, lon=lon, lat=lat, tolerance_m=tolerance_m)


async def test_inside_gives_the_deepest_region_and_its_chain(tree) -> None:
    got = await where(tree, 0.5, 0.5)
    assert not got.outside and got.region.code == "G1" and got.region.level == "grid"  # type: ignore[union-attr]
    assert [r.code for r in got.chain] == ["G1", "C1", "S1", "D1"]  # the region first, the top last
    assert got.path == ["D1", "S1", "C1", "G1"]
    assert got.chain[-1].name == "名称D1"
    got = await where(tree, 1.5, 3.5)  # C2 has no grid: the community is the deepest
    assert [r.code for r in got.chain] == ["C2", "S1", "D1"]


async def test_shared_border_and_vertex_resolve_by_depth_then_smallest_code(tree) -> None:
    # x = 2 is the border S1|S2 and C1|C3: both communities are as deep; C1 < C3.
    assert (await where(tree, 2, 1.5)).region.code == "C1"  # type: ignore[union-attr]
    # The border of G3 (grid) with C1 (community): the grid is deeper and wins though C1 < G3.
    assert (await where(tree, 2, 0.5)).region.code == "G3"  # type: ignore[union-attr]
    # Vertex (2, 2) shared by C1, C2, C3: C1.
    assert (await where(tree, 2, 2)).region.code == "C1"  # type: ignore[union-attr]
    # Vertex (1, 1): corner of G1, inside C1 → G1.
    assert (await where(tree, 1, 1)).region.code == "G1"  # type: ignore[union-attr]
    # Same answer every time.
    answers = {(await where(tree, 2, 2)).region.code for _ in range(20)}  # type: ignore[union-attr]
    assert answers == {"C1"}


async def test_outside_within_and_beyond_tolerance(tree) -> None:
    # 100 m south of G1's bottom edge (D1, S1, C1 share it too): the deepest of the equally near wins.
    lon, lat = at(0.5, 0)
    got = await locate(tree, lon=lon, lat=lat - 100 / 111_000, tolerance_m=200)
    assert got.outside and got.region.code == "G1"  # type: ignore[union-attr]
    assert [r.code for r in got.chain] == ["G1", "C1", "S1", "D1"]
    assert got.distance_m == pytest.approx(100, rel=0.01)  # a degree of latitude is ~110.9 km here
    # 100 m east of the district: C3 is the deepest along that edge.
    lon, lat = at(4, 3)
    got = await locate(tree, lon=lon + 100 / (111_000 * math.cos(math.radians(lat))), lat=lat, tolerance_m=200)
    assert got.outside and got.region.code == "C3"  # type: ignore[union-attr]
    # Beyond tolerance: outside, no region.
    got = await locate(tree, lon=lon + 0.01, lat=lat, tolerance_m=200)
    assert got.outside and got.region is None and got.chain == []
    # Tolerance 0: only inside counts.
    got = await locate(tree, lon=at(0.5, 0)[0], lat=LAT0 - 0.0001, tolerance_m=0)
    assert got.outside and got.region is None


async def test_no_regions_at_all(session) -> None:
    got = await locate(session, lon=118.7, lat=32.0, tolerance_m=200)
    assert got.outside and got.region is None


@pytest.mark.parametrize("lon, lat", [(181.0, 30.0), (-180.5, 30.0), (118.0, 90.5), (118.0, -91.0),
                                      (math.nan, 30.0), (118.0, math.inf)])
async def test_out_of_range_coordinates_are_refused(session, lon: float, lat: float) -> None:
    with pytest.raises(GeoInputError):
        await locate(session, lon=lon, lat=lat, tolerance_m=200)


async def test_negative_tolerance_is_refused(session) -> None:
    with pytest.raises(GeoInputError):
        await locate(session, lon=118.7, lat=32.0, tolerance_m=-1)
