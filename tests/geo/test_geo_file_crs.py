"""A region file's CRS → WGS-84 (geo/source_crs.py), through the reader as the import runs it (no database):
Gauss–Krüger zone prefixes that disagree with the .prj, degrees against metres, swapped axes, 6° zones,
Xi'an 1980 / Beijing 1954 (refused without a defined transformation), Web Mercator, --crs."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import Polygon, box, shape

from geo.region_files import ReadOptions, read_region_file
from tests.geo_files import GK_CM_120, GK_ZONE_40, MAP_ZH, Geometries, design, write

SAME = 1e-9  # degrees


@pytest.fixture(scope="module")
def regions():
    return design()


@pytest.fixture(scope="module")
def zone40(regions):
    return Geometries(regions, crs=GK_ZONE_40)


def _read(path, **options):
    check, collection, _ = read_region_file(path, ReadOptions(attribute_map=MAP_ZH, **options))
    return check, collection


def _refusal(path, **options) -> str:
    check, collection = _read(path, **options)
    assert collection is None and len(check.problems) == 1, check.problems
    return str(check.problems[0]["reason"])


def _assert_wgs84(collection, regions, reference) -> None:
    got = {f["properties"]["code"]: shape(f["geometry"]) for f in collection["features"]}
    for r in regions:
        assert shapely.hausdorff_distance(got[r.code], reference[r.code]) < SAME, r.code


def _swap_xy(g):
    return shapely.transform(g, lambda xy: xy[:, ::-1].copy())


def test_zone_prefixed_eastings_under_a_prj_without_the_zone(tmp_path, regions, zone40) -> None:
    shp = write(tmp_path / "a.shp", regions, zone40.projected, crs=GK_CM_120, encoding="GBK")  # .prj: EPSG:4549
    check, collection = _read(shp)
    assert check.notes == ["the eastings carry zone number 40 (central meridian 120°E) while CGCS2000 / 3-degree "
                           "Gauss-Kruger CM 120E has none: 40000000 m taken off every easting"]
    _assert_wgs84(collection, regions, zone40.reference)


def test_eastings_without_the_zone_under_a_prefixed_prj(tmp_path, regions, zone40) -> None:
    plain = Geometries(regions, crs=GK_CM_120)
    shp = write(tmp_path / "b.shp", regions, plain.projected, crs=GK_ZONE_40, encoding="GBK")  # .prj: EPSG:4528
    check, collection = _read(shp)
    assert check.notes == ["the eastings carry no zone number while CGCS2000 / 3-degree Gauss-Kruger zone 40 puts "
                           "40 in front: 40000000 m added to every easting"]
    _assert_wgs84(collection, regions, zone40.reference)


def test_six_degree_zone_prefix_under_its_cm_variant(tmp_path, regions) -> None:
    six = Geometries(regions, crs="EPSG:4499")  # CGCS2000 / Gauss-Kruger zone 21 (6°, central meridian 123°E)
    shp = write(tmp_path / "c.shp", regions, six.projected, crs="EPSG:4510", encoding="GBK")  # CM 123E
    check, collection = _read(shp)
    assert "zone number 21 (central meridian 123°E)" in check.notes[0]
    _assert_wgs84(collection, regions, six.reference)


@pytest.mark.parametrize(("prj", "says"), [
    ("EPSG:4548", "central meridian 117°E: give the file's CRS with --crs; the eastings carry 3° Gauss–Krüger "
                  "zone 40 (central meridian 120°E): for CGCS2000 that is EPSG:4528"),
    ("EPSG:4527", "central meridian 117°E (zone 39)"),
])
def test_a_zone_prefix_naming_another_meridian_is_refused(tmp_path, regions, zone40, prj, says) -> None:
    shp = write(tmp_path / "d.shp", regions, zone40.projected, crs=prj, encoding="GBK")
    reason = _refusal(shp)
    assert reason.startswith("the eastings carry Gauss–Krüger zone number 40 (central meridian 120°E as a 3° zone")
    assert says in reason


def test_eastings_spanning_zones_are_refused(tmp_path, regions, zone40) -> None:
    geoms = dict(zone40.projected)
    first = regions[0].code
    geoms[first] = shapely.affinity.translate(geoms[first], xoff=-1_000_000)  # one region in zone 39's millions
    shp = write(tmp_path / "e.shp", regions, geoms, crs=GK_ZONE_40, encoding="GBK")
    assert "span several Gauss–Krüger zones" in _refusal(shp)


def test_metres_under_a_geographic_crs_and_degrees_under_a_projected_one(tmp_path, regions, zone40) -> None:
    shp = write(tmp_path / "f.shp", regions, zone40.projected, crs="EPSG:4490", encoding="GBK")
    reason = _refusal(shp)
    assert "are not degrees but the CRS, China Geodetic Coordinate System 2000, is geographic" in reason
    assert "for CGCS2000 that is EPSG:4528" in reason
    shp = write(tmp_path / "g.shp", regions, zone40.lonlat, crs=GK_ZONE_40, encoding="GBK")
    assert "look like degrees but the CRS, CGCS2000 / 3-degree Gauss-Kruger zone 40, is projected" in _refusal(shp)


@pytest.mark.parametrize("crs", [GK_ZONE_40, GK_CM_120])
def test_northings_in_x_are_refused(tmp_path, regions, crs) -> None:
    geoms = Geometries(regions, crs=crs)
    swapped = {c: _swap_xy(g) for c, g in geoms.projected.items()}
    shp = write(tmp_path / "h.shp", regions, swapped, crs=crs, encoding="GBK")
    assert "hold northings in X and eastings in Y (the surveying order)" in _refusal(shp)


def test_xian_1980_is_refused_without_its_transformation_and_read_with_one(tmp_path, regions) -> None:
    xian = Geometries(regions, crs="EPSG:2364")  # Xian 1980 / 3-degree Gauss-Kruger zone 40
    shp = write(tmp_path / "x.shp", regions, xian.projected, crs="EPSG:2364", encoding="GBK")
    reason = _refusal(shp)
    assert reason.startswith("PROJ defines no transformation from Xian 1980 to WGS-84 for this area, only a "
                             "'ballpark' one")
    assert "+towgs84=" in reason
    # The same file with a CRS that carries its datum shift (illustrative parameters, not an official set).
    proj = ("+proj=tmerc +lat_0=0 +lon_0=120 +k=1 +x_0=40500000 +y_0=0 +a=6378140 +rf=298.257 "
            "+towgs84=24,-123,-94,0.02,-0.25,-0.13,1.1 +units=m +no_defs")
    check, collection = _read(shp, crs=proj)
    assert check.crs_origin.startswith("--crs (the file says Xian 1980")
    assert "ballpark" not in check.operation.lower(), check.operation
    ballpark = Transformer.from_crs(proj.split(" +towgs84")[0], "EPSG:4326", always_xy=True)
    got = shape(collection["features"][0]["geometry"])
    x, y = xian.projected[regions[0].code].exterior.coords[0]
    shifted = shapely.distance(shapely.Point(got.exterior.coords[0]), shapely.Point(*ballpark.transform(x, y)))
    assert shifted > 1e-5  # the datum shift moved the point (by metres), unlike the refused ballpark


def _box_file(tmp_path, name: str, lonlat: Polygon, crs: str):
    """One street in `crs`, projected from CGCS2000-like longitude/latitude with pyproj."""
    to = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    projected = shapely.transform(lonlat, lambda xy: np.column_stack(to.transform(xy[:, 0], xy[:, 1])))
    region = design()[0]
    return write(tmp_path / name, [region], {region.code: projected}, crs=crs, encoding="GBK")


def test_beijing_1954_where_epsg_defines_a_transformation(tmp_path) -> None:
    ordos = _box_file(tmp_path, "ordos.shp", box(108.1, 37.5, 108.12, 37.52), "EPSG:2433")  # CM 108E
    check, collection = _read(ordos)
    assert collection is not None, check.problems
    assert check.source_crs == "Beijing 1954 / 3-degree Gauss-Kruger CM 108E (EPSG:2433)"
    assert "Beijing 1954 to WGS 84 (" in check.operation and check.accuracy_m == 1.0
    hangzhou = _box_file(tmp_path, "hz.shp", box(120.1, 30.26, 120.12, 30.28), "EPSG:2385")
    assert _refusal(hangzhou).startswith("PROJ defines no transformation from Xian 1980")
    east = _box_file(tmp_path, "east.shp", box(120.1, 30.26, 120.12, 30.28), "EPSG:2437")  # Beijing 1954 CM 120E
    assert "no transformation from Beijing 1954 to WGS-84 for this area" in _refusal(east)
    # A CM 114E projection of points at 120°E: eastings past 1,000 km, far from the meridian but no zone number.
    far = _box_file(tmp_path, "far.shp", box(120.1, 30.26, 120.12, 30.28), "EPSG:2435")
    assert "no transformation from Beijing 1954 to WGS-84 for this area" in _refusal(far)


def test_web_mercator_geojson_and_cgcs2000_geographic(tmp_path, regions, zone40) -> None:
    to_3857 = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    merc = {c: shapely.transform(g, lambda xy: np.column_stack(to_3857.transform(xy[:, 0], xy[:, 1])))
            for c, g in zone40.reference.items()}
    path = write(tmp_path / "m.geojson", regions, merc, crs="EPSG:3857", driver="GeoJSON")
    assert "EPSG" in json.loads(path.read_text())["crs"]["properties"]["name"]  # the legacy "crs" member
    check, collection = _read(path)
    assert check.source_crs == "WGS 84 / Pseudo-Mercator (EPSG:3857)" and check.accuracy_m == 0
    _assert_wgs84(collection, regions, zone40.reference)


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_no_crs_is_refused_unless_given_and_a_bad_crs_says_so(tmp_path, regions, zone40) -> None:
    shp = write(tmp_path / "n.shp", regions, zone40.projected, crs=None, encoding="GBK")
    assert _refusal(shp).startswith("the file has no coordinate reference system")
    check, collection = _read(shp, crs="4528")  # a bare EPSG code
    assert check.source_crs.endswith("(EPSG:4528)") and check.crs_origin == "--crs"
    _assert_wgs84(collection, regions, zone40.reference)
    assert "--crs 'EPSG:99999' is not a coordinate reference system" in _refusal(shp, crs="EPSG:99999")
