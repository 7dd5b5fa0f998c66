"""Each bad region file is rejected with every error naming the feature and the reason; nothing changes."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from geo.errors import GeoInputError
from geo.imports import import_regions, load_collection
from tests.geo_samples import box, edited, feature, fingerprint, sample, twisted_square, without_regions


@pytest.fixture
async def session(session):
    """The shared rolled-back session, starting from an empty regions table."""
    return await without_regions(session)

S = sample


def swapped_file() -> dict:
    out = sample()
    for f in out["features"]:
        f["geometry"]["coordinates"] = [[[lat, lon] for lon, lat in ring] for ring in f["geometry"]["coordinates"]]
    return out


def one_feature_swapped() -> dict:
    out = sample()
    g = out["features"][6]["geometry"]
    g["coordinates"] = [[[lat, lon] for lon, lat in ring] for ring in g["coordinates"]]
    return out


def duplicate_code() -> dict:
    out = sample()
    out["features"].append(feature("C2", "community", "S2", box(2, 2, 4, 4)))
    return out


# (bad file, [(feature index, code, words the reason must contain)])
CASES: dict[str, tuple[Callable[[], object], list[tuple[int | None, str | None, str]]]] = {
    "not GeoJSON (a list)": (lambda: [1, 2, 3], [(None, None, "not GeoJSON")]),
    "not GeoJSON (no type)": (lambda: {"features": []}, [(None, None, "not GeoJSON")]),
    "not a FeatureCollection": (lambda: S()["features"][0], [(None, None, "not a FeatureCollection")]),
    "features not a list": (lambda: {"type": "FeatureCollection", "features": {}}, [(None, None, "FeatureCollection")]),
    "not a Feature": (lambda: {"type": "FeatureCollection", "features": [S()["features"][0], {"type": "Point"}]},
                      [(1, None, "not a GeoJSON Feature")]),
    "point geometry": (lambda: edited(S(), 6, geometry={"type": "Point", "coordinates": [118.705, 32.005]}),
                       [(6, "G1", "non-polygon geometry 'Point'")]),
    "linestring geometry": (lambda: edited(S(), 7, geometry={"type": "LineString",
                                                             "coordinates": [[118.72, 32.0], [118.73, 32.01]]}),
                            [(7, "G3", "non-polygon geometry 'LineString'")]),
    "lon out of range": (lambda: edited(S(), 6, geometry={"type": "Polygon", "coordinates": [
        [[190.0, 32.0], [190.01, 32.0], [190.01, 32.01], [190.0, 32.0]]]}), [(6, "G1", "out of range")]),
    "lat out of range": (lambda: edited(S(), 6, geometry={"type": "Polygon", "coordinates": [
        [[-118.0, -91.0], [-118.01, -91.0], [-118.01, -91.01], [-118.0, -91.0]]]}), [(6, "G1", "out of range")]),
    "whole file lon/lat swapped": (swapped_file, [(i, c, "swapped: the file's bounding box") for i, c in
                                                  enumerate(["D1", "S1", "S2", "C1", "C2", "C3", "G1", "G3"])]),
    "one feature lon/lat swapped": (one_feature_swapped, [(6, "G1", "swapped: its bounding box")]),
    "unknown level": (lambda: edited(S(), 6, level="village"), [(6, "G1", "unknown level 'village'")]),
    "missing level": (lambda: edited(S(), 6, level=None), [(6, "G1", "unknown level None")]),
    "unknown parent": (lambda: edited(S(), 6, parent_code="C9"), [(6, "G1", "unknown parent 'C9'")]),
    "child level not deeper": (lambda: edited(S(), 6, level="community"),
                               [(6, "G1", "level 'community' is not deeper than its parent 'C1' (community)")]),
    "child above its parent": (lambda: edited(S(), 1, level="district"),
                               [(1, "S1", "level 'district' is not deeper than its parent 'D1' (district)")]),
    "own parent": (lambda: edited(S(), 6, parent_code="G1"), [(6, "G1", "its own parent")]),
    "duplicate code": (duplicate_code, [(8, "C2", "duplicate code: already used by feature #4")]),
    "missing code": (lambda: edited(S(), 7, code="  "), [(7, None, "missing or empty 'code'")]),
    "reserved code": (lambda: edited(S(), 7, code="*"), [(7, "*", "reserved for the whole deployment")]),
    "missing name": (lambda: edited(S(), 7, name=""), [(7, "G3", "missing or empty 'name'")]),
    "bow-tie polygon": (lambda: edited(S(), 6, geometry={"type": "Polygon", "coordinates": [
        [[118.70, 32.0], [118.71, 32.01], [118.71, 32.0], [118.70, 32.01], [118.70, 32.0]]]}),
        [(6, "G1", "cannot be repaired")]),
    "repair over 0.1%": (lambda: edited(S(), 6, geometry=twisted_square(0.1)),
                         [(6, "G1", "repair would change its area by 0.96%")]),
    "empty geometry": (lambda: edited(S(), 6, geometry={"type": "Polygon", "coordinates": []}),
                       [(6, "G1", "empty geometry")]),
    "empty multipolygon": (lambda: edited(S(), 6, geometry={"type": "MultiPolygon", "coordinates": []}),
                           [(6, "G1", "empty geometry")]),
    "null geometry": (lambda: edited(S(), 6, geometry=None), [(6, "G1", "missing geometry")]),
    "ring too short": (lambda: edited(S(), 6, geometry={"type": "Polygon", "coordinates": [
        [[118.7, 32.0], [118.71, 32.0], [118.7, 32.0]]]}), [(6, "G1", "malformed Polygon coordinates")]),
    "coordinates not numbers": (lambda: edited(S(), 6, geometry={"type": "Polygon", "coordinates": "abc"}),
                                [(6, "G1", "malformed Polygon coordinates")]),
    # shapely skips a null hole; the ring check used to fail on it with a TypeError (no feature named).
    "null hole ring": (lambda: edited(S(), 6, geometry={"type": "Polygon", "coordinates": [
        [[118.7, 32.0], [118.71, 32.0], [118.71, 32.01], [118.7, 32.0]], None]}),
        [(6, "G1", "malformed Polygon coordinates: a ring is not an array of positions")]),
    "null ring in a multipolygon": (lambda: edited(S(), 6, geometry={"type": "MultiPolygon", "coordinates": [
        [[[118.7, 32.0], [118.71, 32.0], [118.71, 32.01], [118.7, 32.0]]], [None]]}),
        [(6, "G1", "malformed MultiPolygon coordinates: a ring is not an array of positions")]),
}


@pytest.fixture
async def base(session):
    """The sample tree already stored, so "unchanged" is measured against a non-empty table."""
    await import_regions(session, collection=sample())
    return session


@pytest.mark.parametrize("case", sorted(CASES))
async def test_bad_file_is_rejected_naming_the_feature_and_changes_nothing(base, case: str) -> None:
    make, expected = CASES[case]
    before = await fingerprint(base)
    with pytest.raises(GeoInputError) as info:
        await import_regions(base, collection=make())  # type: ignore[arg-type]
    details = info.value.details
    assert isinstance(details, list) and details, info.value
    for index, code, words in expected:
        matching = [d for d in details if d["feature"] == index and d["code"] == code]
        assert matching, f"no error for feature #{index} ({code}) in {details}"
        if words:
            assert any(words in d["reason"] for d in matching), (words, matching)
    assert "nothing was imported" in info.value.message
    assert await fingerprint(base) == before


async def test_every_error_is_reported_not_only_the_first(base) -> None:
    bad = edited(sample(), 6, level="village")
    bad = edited(bad, 7, parent_code="nowhere")
    bad = edited(bad, 3, geometry={"type": "Point", "coordinates": [118.7, 32.0]})
    before = await fingerprint(base)
    with pytest.raises(GeoInputError) as info:
        await import_regions(base, collection=bad)
    got = {(d["feature"], d["code"]) for d in info.value.details}  # type: ignore[union-attr]
    assert got == {(3, "C1"), (6, "G1"), (7, "G3")}
    assert await fingerprint(base) == before


async def test_relevel_below_a_stored_child_is_rejected(base) -> None:
    """C3 stored with child G3; a file turning C3 into a grid (same level as G3) would orphan the tree."""
    before = await fingerprint(base)
    bad = {"type": "FeatureCollection", "features": [feature("C3", "grid", "S2", box(2, 0, 4, 4))]}
    with pytest.raises(GeoInputError) as info:
        await import_regions(base, collection=bad)
    assert info.value.details == [{"feature": 0, "code": "C3",
                                   "reason": "level 'grid' is not above its stored child 'G3' (grid)"}]
    assert await fingerprint(base) == before


def test_file_that_is_not_json(tmp_path) -> None:
    path = tmp_path / "regions.geojson"
    path.write_text("<html>not json</html>")
    with pytest.raises(GeoInputError) as info:
        load_collection(path)
    assert "not GeoJSON" in info.value.details[0]["reason"]  # type: ignore[index]
    with pytest.raises(GeoInputError):
        load_collection(tmp_path / "missing.geojson")


async def test_parent_in_the_database_must_be_shallower(base) -> None:
    before = await fingerprint(base)
    bad = {"type": "FeatureCollection", "features": [
        feature("G9", "community", "C1", box(1, 1, 2, 2)),  # C1 is a stored community
        {"type": "Feature", "properties": None, "geometry": {"type": "Polygon", "coordinates": box(1, 1, 2, 2)}},
    ]}
    with pytest.raises(GeoInputError) as info:
        await import_regions(base, collection=bad)
    assert info.value.details == [
        {"feature": 0, "code": "G9", "reason": "level 'community' is not deeper than its parent 'C1' (community)"},
        {"feature": 1, "code": None, "reason": "missing properties (code, name, level, parent_code)"},
    ]
    assert await fingerprint(base) == before


@pytest.mark.parametrize("bounds, swapped", [
    ((118.7, 32.0, 118.8, 32.1), False),   # Nanjing as GeoJSON wants it
    ((32.0, 118.7, 32.1, 118.8), True),    # Nanjing as (lat, lon): latitude 118 is impossible
    ((39.9, 116.3, 40.0, 116.4), True),    # Beijing swapped: out of range as given
    ((22.5, 75.0, 23.0, 76.0), True),      # lat 75 is in range, but exchanged it falls in China's rectangle
    ((75.0, 22.5, 76.0, 23.0), False),     # as given it is in China's rectangle: kept
    ((2.3, 48.8, 2.4, 48.9), False),       # Paris: outside China either way
    ((200.0, 30.0, 201.0, 31.0), False),   # simply out of range, exchanging does not help
])
def test_axis_order_rule(bounds: tuple[float, float, float, float], swapped: bool) -> None:
    from geo.shapes import BBox, looks_swapped

    assert looks_swapped(BBox(*bounds)) is swapped
