"""Region files refused before anything is read into the database, each with a message a person can act on, and
the attribute mapping (--map): defaults, case, Shapefile truncation, constant and Chinese levels, kept properties.
Feature problems found by the project's rules name the file's own feature numbers; nothing is written."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest
import shapely
from pyogrio import raw
from shapely.geometry import GeometryCollection, box

from geo.attributes import AttributeMap, MappingProblem
from geo.errors import GeoInputError
from geo.region_files import ReadOptions, check_region_file, import_region_file, read_region_file
from tests.geo_files import GK_ZONE_40, MAP_ZH, Geometries, design, write, zip_shapefile
from tests.geo_samples import fingerprint, without_regions


@pytest.fixture(scope="module")
def regions():
    return design()


@pytest.fixture(scope="module")
def geoms(regions):
    return Geometries(regions)


@pytest.fixture(scope="module")
def shapefile(tmp_path_factory, regions, geoms):
    return write(tmp_path_factory.mktemp("shp") / "网格.shp", regions, geoms.projected, crs=GK_ZONE_40, encoding="GBK")


def refusal(path, **options) -> str:
    check, collection, _ = read_region_file(path, ReadOptions(**options))
    assert collection is None and len(check.problems) == 1, check.problems
    assert check.problems[0]["feature"] is None
    return str(check.problems[0]["reason"])


def test_files_that_are_not_region_files(tmp_path) -> None:
    assert refusal(tmp_path / "missing.shp") == f"cannot read {tmp_path / 'missing.shp'}: no such file"
    broken = tmp_path / "broken.geojson"
    broken.write_text("{oops")
    assert refusal(broken).startswith("broken.geojson is not GeoJSON: GDAL cannot parse it")
    html = tmp_path / "page.json"
    html.write_text("<html>not json</html>")
    assert refusal(html).startswith("page.json is not a region file GDAL can read (Shapefile, GeoPackage, KML")
    csv = tmp_path / "table.csv"
    csv.write_text("code,name\n1,a\n")
    assert refusal(csv) == ("table.csv is a CSV file; region files are Shapefile, GeoPackage, KML or GeoJSON "
                            "(convert it, e.g. with ogr2ogr)")
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as zf:
        zf.writestr("readme.txt", "nothing here")
    assert refusal(empty) == "empty.zip holds no Shapefile, GeoPackage, KML or GeoJSON file"
    notzip = tmp_path / "fake.zip"
    notzip.write_text("not a zip")
    assert refusal(notzip).startswith("cannot read fake.zip as a zip archive")


def test_layers_and_encodings(tmp_path, shapefile, regions, geoms) -> None:
    both = tmp_path / "both.zip"
    zip_shapefile(shapefile, both)
    other = write(tmp_path / "other.shp", regions[:3], geoms.projected, crs=GK_ZONE_40, encoding="GBK")
    with zipfile.ZipFile(both, "a") as zf:
        for part in tmp_path.glob("other.*"):
            zf.write(part, part.name)
    assert refusal(both, attribute_map=MAP_ZH) == ("the file has 2 layers: choose one with --layer ('other' "
                                                   "(Polygon), '网格' (Polygon))")
    assert refusal(both, layer="roads") == "no layer 'roads'; the file has: 'other' (Polygon), '网格' (Polygon)"
    _, collection, _ = read_region_file(both, ReadOptions(layer="other", attribute_map=MAP_ZH))
    assert collection is not None and len(collection["features"]) == 3

    gpkg = write(tmp_path / "r.gpkg", regions, geoms.projected, crs=GK_ZONE_40, driver="GPKG")
    assert refusal(gpkg, encoding="GBK") == ("--encoding applies to Shapefiles only: a GeoPackage file is UTF-8 by "
                                             "its specification")
    assert refusal(other, encoding="NOPE") == "unknown encoding 'NOPE' (e.g. GBK, GB18030, UTF-8)"
    assert refusal(other, encoding="UTF-8").startswith("the attributes of other.shp are not valid UTF-8 text")


def test_the_map_option_and_the_fields_it_names(shapefile) -> None:
    for bad, says in [("code", "--map: 'code' is not TARGET=FIELD"),
                      ("code=", "--map: 'code=' is not TARGET=FIELD"),
                      ("id=网格代码", "--map: unknown target 'id' (targets: code, name, level, parent_code)"),
                      ("code=A,code=B", "--map: 'code' is mapped twice")]:
        assert refusal(shapefile, attribute_map=bad) == says
    fields = "网格代码, 网格名称, 层级, 上级代码, 人口, 负责人"
    assert refusal(shapefile, attribute_map="code=WGDM") == (f"--map code=WGDM: the file has no field 'WGDM' "
                                                             f"(its fields: {fields})")
    assert refusal(shapefile) == f"the file has no 'code' field: map one with --map code=FIELD (its fields: {fields})"
    assert refusal(shapefile, attribute_map="code=网格代码,name=网格名称") == (
        "the file has no 'level' field: map one with --map level=FIELD or a level, e.g. level=grid "
        f"(its fields: {fields})")


def test_defaults_case_truncation_constant_level_and_kept_fields() -> None:
    fields = ["CODE", "Name", "PARENT_COD", "level_file_src", "name_cn", "LEVEL"]
    bound = AttributeMap.parse(None).bind(fields)
    assert bound.sources == {"code": "CODE", "name": "Name", "level": "LEVEL", "parent_code": "PARENT_COD"}
    row = {"CODE": 330106001001.0, "Name": "文一社区", "PARENT_COD": "330106001", "LEVEL": "社区",
           "level_file_src": None, "name_cn": "x"}
    assert bound.properties(row) == {"code": 330106001001, "name": "文一社区", "level": "community",
                                     "parent_code": "330106001", "name_cn": "x"}
    # level=grid: a constant when the file has no such field; a field of another target's name is kept aside.
    bound = AttributeMap.parse("code=WGDM,name=WGMC,level=grid").bind(["WGDM", "WGMC", "name", "code"])
    assert bound.level_constant is not None and bound.level_constant.value == "grid"
    assert bound.properties({"WGDM": "G1", "WGMC": "一", "name": "旧名", "code": "old"}) == {
        "code": "G1", "name": "一", "level": "grid", "name_file": "旧名", "code_file": "old"}
    assert AttributeMap.parse("level=网格").bind(["code", "name"]).level_constant.value == "grid"
    # A field named like a level wins over the constant.
    assert AttributeMap.parse("level=grid").bind(["code", "name", "grid"]).sources["level"] == "grid"
    with pytest.raises(MappingProblem, match="no field 'village'"):
        AttributeMap.parse("level=village").bind(["code", "name"])


def test_kml_fields_and_multigeometry(tmp_path) -> None:
    path = tmp_path / "one.kml"
    multi = GeometryCollection([box(120.10, 30.26, 120.11, 30.27), box(120.12, 30.26, 120.13, 30.27)])
    raw.write(str(path), np.array(shapely.to_wkb([multi]), dtype=object),
              [np.array(["G1"], dtype=object), np.array(["第一网格"], dtype=object)], ["code", "name"],
              driver="LIBKML", crs="EPSG:4326", geometry_type="Unknown")
    _, collection, _ = read_region_file(path, ReadOptions(attribute_map="level=grid"))
    feature = collection["features"][0]
    assert feature["properties"] == {"code": "G1", "name": "第一网格", "level": "grid"}  # no KML bookkeeping
    assert feature["geometry"]["type"] == "MultiPolygon" and len(feature["geometry"]["coordinates"]) == 2


async def test_feature_problems_name_the_files_features_and_nothing_is_written(session, tmp_path, regions,
                                                                               geoms) -> None:
    session = await without_regions(session)
    bad = list(regions)
    bad[3] = type(bad[3])(**{**bad[3].__dict__, "level": "village"})
    bad[5] = type(bad[5])(**{**bad[5].__dict__, "parent_code": "330106999"})
    shapes = dict(geoms.projected)
    shapes[bad[8].code] = shapely.LineString([(40_510_000, 3_349_000), (40_510_100, 3_349_100)])
    path = write(tmp_path / "bad.gpkg", bad, shapes, crs=GK_ZONE_40, driver="GPKG", geometry_type="Unknown")
    before = await fingerprint(session)
    check = await check_region_file(session, path=path, options=ReadOptions(attribute_map=MAP_ZH))
    assert [(p["feature"], p["code"]) for p in check.problems] == [
        (3, bad[3].code), (5, bad[5].code), (8, bad[8].code)]
    assert "unknown level 'village'" in check.problems[0]["reason"]
    assert "unknown parent '330106999'" in check.problems[1]["reason"]
    assert "non-polygon geometry 'LineString'" in check.problems[2]["reason"]
    with pytest.raises(GeoInputError) as info:
        await import_region_file(session, path=path, options=ReadOptions(attribute_map=MAP_ZH))
    assert info.value.details == check.problems
    assert await fingerprint(session) == before
