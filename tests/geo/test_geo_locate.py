"""locate() on the small sample: the documented rule on borders, vertices and outside, and bad input."""

from __future__ import annotations

import math

import pytest
from sqlalchemy import text

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


# The fast path: micro-grids first (ix_regions_geom_deepest), the chain read from the row (path_names/path_levels).

def with_microgrids() -> dict:
    """The sample plus, in C1, grid G2 (0,1)-(1,2) whose micro-grid M2 (0,1.5)-(1,2) touches the leaf community
    C2 along y = 2; in G1 two micro-grids "Mb" (0,0)-(.5,.5) and "ma" (.5,0)-(1,.5) sharing x = .5, whose order
    differs between "C" ("Mb" < "ma") and a linguistic collation; the rest of G1 is a gap between children."""
    from tests.geo_samples import box, feature

    coll = sample()
    coll["features"] += [
        feature("G2", "grid", "C1", box(0, 1, 1, 2)),
        feature("M2", "microgrid", "G2", box(0, 1.5, 1, 2)),
        feature("Mb", "microgrid", "G1", box(0, 0, 0.5, 0.5)),
        feature("ma", "microgrid", "G1", box(0.5, 0, 1, 0.5)),
    ]
    return coll


@pytest.fixture
async def micro(session):
    await import_regions(session, collection=with_microgrids())
    return session


async def test_microgrid_hit_answers_with_the_stored_chain(micro) -> None:
    got = await where(micro, 0.25, 0.25)
    assert not got.outside and [r.code for r in got.chain] == ["Mb", "G1", "C1", "S1", "D1"]
    assert [r.level for r in got.chain] == ["microgrid", "grid", "community", "street", "district"]
    assert [r.name for r in got.chain] == ["名称Mb", "名称G1", "名称C1", "名称S1", "名称D1"]


async def test_shared_microgrid_edge_takes_the_smallest_code_in_c_collation(micro) -> None:
    assert (await where(micro, 0.5, 0.25)).region.code == "Mb"  # type: ignore[union-attr]
    assert (await where(micro, 0.5, 0)).region.code == "Mb"  # type: ignore[union-attr]  # on G1's edge too


async def test_gap_between_children_is_answered_by_the_parent(micro) -> None:
    got = await where(micro, 0.75, 0.75)  # in G1, in neither micro-grid
    assert not got.outside and [r.code for r in got.chain] == ["G1", "C1", "S1", "D1"]
    got = await where(micro, 0.5, 1.25)  # in G2 below M2
    assert [r.code for r in got.chain] == ["G2", "C1", "S1", "D1"]


async def test_border_between_a_leaf_and_a_deeper_neighbour_goes_to_the_deeper(micro) -> None:
    # y = 2 is the bottom edge of C2 (a community with no children) and the top edge of micro-grid M2.
    got = await where(micro, 0.5, 2)
    assert [r.code for r in got.chain] == ["M2", "G2", "C1", "S1", "D1"]
    got = await where(micro, 1.5, 2)  # the same border past M2: C1 and C2 are equally deep, C1 < C2
    assert got.region.code == "C1"  # type: ignore[union-attr]
    got = await where(micro, 0.5, 2.5)  # inside the leaf community
    assert [r.code for r in got.chain] == ["C2", "S1", "D1"]


async def test_outside_near_a_microgrid_takes_the_full_rule(micro) -> None:
    lon, lat = at(0.25, 0)
    got = await locate(micro, lon=lon, lat=lat - 100 / 111_000, tolerance_m=200)
    assert got.outside and [r.code for r in got.chain] == ["Mb", "G1", "C1", "S1", "D1"]


async def test_a_row_without_its_chain_falls_back_to_the_join(micro) -> None:
    await micro.execute(text("UPDATE regions SET path_names = '{}', path_levels = '{}' WHERE code = 'Mb'"))
    got = await where(micro, 0.25, 0.25)
    assert [(r.code, r.name, r.level) for r in got.chain][:2] == [("Mb", "名称Mb", "microgrid"),
                                                                  ("G1", "名称G1", "grid")]


CHAIN_CHECK = text("""
SELECT r.code FROM regions r
WHERE r.path_names IS DISTINCT FROM (SELECT array_agg(a.name ORDER BY array_position(r.path, a.code))
                                     FROM regions a WHERE a.code = ANY(r.path))
   OR r.path_levels IS DISTINCT FROM (SELECT array_agg(a.level ORDER BY array_position(r.path, a.code))
                                      FROM regions a WHERE a.code = ANY(r.path))
""")


async def test_import_keeps_every_chain_right_after_renames_and_moves(micro) -> None:
    assert (await micro.execute(CHAIN_CHECK)).all() == []
    # Rename S1 alone: its descendants (C1, C2, G1, G2, Mb, ma, M2) are not in the file.
    from tests.geo_samples import box, feature

    renamed = {"type": "FeatureCollection", "features": [feature("S1", "street", "D1", box(0, 0, 2, 4))]}
    renamed["features"][0]["properties"]["name"] = "新街道"
    await import_regions(micro, collection=renamed)
    assert (await micro.execute(CHAIN_CHECK)).all() == []
    got = await where(micro, 0.25, 0.25)
    assert [r.name for r in got.chain] == ["名称Mb", "名称G1", "名称C1", "新街道", "名称D1"]
    # Move G1 (with its micro-grids) under C3 and make it a community's child at another place in the tree.
    moved = {"type": "FeatureCollection", "features": [feature("G1", "grid", "C3", box(0, 0, 1, 1))]}
    await import_regions(micro, collection=moved)
    assert (await micro.execute(CHAIN_CHECK)).all() == []
    got = await where(micro, 0.25, 0.25)
    assert [r.code for r in got.chain] == ["Mb", "G1", "C3", "S2", "D1"]
