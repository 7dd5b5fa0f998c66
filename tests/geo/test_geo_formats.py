"""Acceptance (issue 17 item 1): region files as China's surveying offices deliver them, against real PostGIS.

A street → community → grid hierarchy around 120°E is projected to CGCS2000 / 3° Gauss–Krüger zone 40
(EPSG:4528, zone number in the easting) and written as a Shapefile with GBK attributes under Chinese field names;
`gridcmd import-regions --map` loads it, and locate() agrees with shapely on the original polygons carried back to
WGS-84 by pyproj in the test, on 5,000 random points and on every vertex. The same regions as a GeoPackage in
EPSG:4490, a zipped Shapefile, a GBK .dbf without its .cpg (with --encoding) and KML give identical rows; a
Shapefile without its .prj is refused and writes nothing.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
from pathlib import Path

import pytest
import shapely
from shapely.geometry import Point
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from geo.errors import GeoInputError
from geo.locate import locate
from geo.region_files import ReadOptions, check_region_file, import_region_file
from tests.geo_files import (
    CGCS2000,
    DEPTH,
    FIELDS_PINYIN,
    GK_ZONE_40,
    MAP_PINYIN,
    MAP_ZH,
    Geometries,
    assert_same_rows,
    copy_without,
    design,
    snapshot,
    vertices,
    write,
    zip_shapefile,
)
from tests.geo_reference import RefRegion, ShapelyLocator
from tests.geo_samples import without_regions

TOLERANCE_M = 200.0
RANDOM_POINTS = 5000



@pytest.fixture(scope="module")
def regions():
    return design()


@pytest.fixture(scope="module")
def geoms(regions):
    return Geometries(regions)


@pytest.fixture(scope="module")
def shapefile(tmp_path_factory, regions, geoms) -> Path:
    """EPSG:4528, GBK .dbf with a .cpg saying so, Chinese field names, Chinese level names."""
    folder = tmp_path_factory.mktemp("gk40")
    shp = write(folder / "网格.shp", regions, geoms.projected, crs=GK_ZONE_40, encoding="GBK")
    assert (folder / "网格.cpg").read_text().strip() == "GBK"
    assert "网格代码".encode("gbk") in (folder / "网格.dbf").read_bytes()  # the field names are GBK on disk
    return shp


def expected_rows(regions, geoms: Geometries) -> dict[str, tuple]:
    return {r.code: (r.name, r.level, r.parent_code, r.path, {"人口": r.population, "负责人": r.manager},
                     geoms.reference[r.code]) for r in regions}


async def _cli(settings, *args: str) -> tuple[int, str, str]:
    env = {**os.environ, "DATABASE_URL": settings.database_url}
    gridcmd = str(Path(sys.executable).with_name("gridcmd"))
    proc = await asyncio.create_subprocess_exec(gridcmd, "import-regions", *map(str, args), "--no-progress", env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    return proc.returncode or 0, out.decode(), err.decode()


@pytest.fixture
async def committed(clean_db):
    yield clean_db
    async with clean_db.begin() as conn:
        await conn.execute(text("TRUNCATE regions RESTART IDENTITY CASCADE"))


@pytest.fixture
async def session(session):
    return await without_regions(session)


async def test_gauss_kruger_shapefile_imported_with_map_locates_like_shapely(committed, settings, shapefile,
                                                                            regions, geoms) -> None:
    code, out, err = await _cli(settings, shapefile, "--map", MAP_ZH)
    assert code == 0, err
    assert "imported 30 regions" in out and "30 new" in out
    assert "(EPSG:4528) (from file) → WGS-84 by: Inverse of 3-degree Gauss-Kruger zone 40" in out

    async with committed.connect() as conn:
        async with AsyncSession(bind=conn) as s:
            got = await snapshot(s)
            assert_same_rows(got, expected_rows(regions, geoms))
            # Every stored vertex is exactly the reference's: the import and the test ran the same pyproj operation.
            assert vertices(g for *_, g in got.values()) == vertices(geoms.reference.values())

            ref = ShapelyLocator([RefRegion(r.code, r.level, DEPTH[r.level], r.path, geoms.reference[r.code])
                                  for r in regions])
            streets = shapely.union_all([geoms.reference[r.code] for r in regions if r.level == "street"])
            minx, miny, maxx, maxy = streets.bounds
            pad = 0.001  # ~100 m: outside points stay within the 200 m tolerance
            rng = random.Random(17)
            points = [("random", rng.uniform(minx - pad, maxx + pad), rng.uniform(miny - pad, maxy + pad))
                      for _ in range(RANDOM_POINTS)]
            points += [("vertex", x, y) for x, y in sorted(vertices(geoms.reference.values()))]
            mismatches, inside = [], 0
            for kind, x, y in points:
                found = await locate(s, lon=x, lat=y, tolerance_m=TOLERANCE_M)
                answer = (found.outside, tuple(found.path) or None)
                want_outside, want_path, _ = ref.locate(x, y, TOLERANCE_M)
                if answer != (want_outside, want_path):
                    mismatches.append((kind, x, y, answer, (want_outside, want_path)))
                if kind == "vertex":
                    assert not found.outside and found.region is not None and found.region.level == "grid"
                inside += not found.outside
    assert mismatches == [], f"{len(mismatches)} disagreements, first: {mismatches[:5]}"
    n_vertices = len(points) - RANDOM_POINTS
    assert n_vertices == 93 and inside > RANDOM_POINTS // 2, (n_vertices, inside)
    # Among them the lattice's inner corners, each shared by four grids: locate gave the smallest code there
    # (docs/geo.md), as the reference did.
    grids = [g for c, g in geoms.reference.items() if len(c) == 15]
    assert sum(sum(g.intersects(Point(x, y)) for g in grids) == 4 for _, x, y in points if _ == "vertex") == 15


async def test_shapefile_without_prj_is_refused_and_writes_nothing(committed, settings, shapefile, tmp_path) -> None:
    bare = copy_without(shapefile, tmp_path / "bare", ".prj")
    code, out, err = await _cli(settings, bare, "--map", MAP_ZH)
    assert code == 2
    assert "no coordinate reference system (a Shapefile's .prj is missing): give it with --crs" in err
    assert "3° Gauss–Krüger zone 40" in err and "EPSG:4528" in err  # the eastings say which zone
    async with committed.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM regions"))).scalar_one() == 0
    code, out, err = await _cli(settings, bare, "--map", MAP_ZH, "--crs", "EPSG:4528")
    assert code == 0, err
    assert "imported 30 regions" in out and "(from --crs)" in out


async def test_geopackage_in_cgcs2000_gives_identical_rows(session, shapefile, regions, geoms, tmp_path) -> None:
    await import_region_file(session, path=shapefile, options=ReadOptions(attribute_map=MAP_ZH))
    from_shapefile = await snapshot(session)
    await session.execute(text("DELETE FROM regions"))

    gpkg = write(tmp_path / "regions.gpkg", regions, geoms.lonlat, crs=CGCS2000, layer="网格", driver="GPKG")
    write(gpkg, regions[:2], geoms.lonlat, crs=CGCS2000, layer="道路", driver="GPKG", append=True)
    check = await check_region_file(session, path=gpkg, options=ReadOptions(attribute_map=MAP_ZH))
    assert check.problems == [{"feature": None, "code": None, "reason": "the file has 2 layers: choose one with "
                               "--layer ('网格' (Polygon), '道路' (Polygon))"}]
    done = await import_region_file(session, path=gpkg, options=ReadOptions(attribute_map=MAP_ZH, layer="网格"))
    assert done.written.inserted == 30
    assert done.check.source_crs == "China Geodetic Coordinate System 2000 (EPSG:4490)"
    assert_same_rows(await snapshot(session), from_shapefile)


async def test_zipped_shapefile_with_or_without_a_folder(session, shapefile, regions, geoms, tmp_path) -> None:
    for folder in ("", "网格数据/"):
        archive = zip_shapefile(shapefile, tmp_path / f"regions{len(folder)}.zip", folder)
        done = await import_region_file(session, path=archive, options=ReadOptions(attribute_map=MAP_ZH))
        assert done.check.format == "Shapefile" and done.check.layer == "网格"
        assert_same_rows(await snapshot(session), expected_rows(regions, geoms))
        await session.execute(text("DELETE FROM regions"))


async def test_gbk_dbf_without_cpg_needs_the_encoding(session, shapefile, regions, geoms, tmp_path) -> None:
    bare = copy_without(shapefile, tmp_path / "nocpg", ".cpg")
    check = await check_region_file(session, path=bare, options=ReadOptions(attribute_map=MAP_ZH))
    assert len(check.problems) == 1 and "no .cpg beside it" in check.problems[0]["reason"]
    assert "--encoding" in check.problems[0]["reason"]
    with pytest.raises(GeoInputError):
        await import_region_file(session, path=bare, options=ReadOptions(attribute_map=MAP_ZH))
    assert await snapshot(session) == {}

    wrong = await check_region_file(session, path=bare, options=ReadOptions(attribute_map=MAP_ZH,
                                                                             encoding="UTF-8"))
    assert "not valid UTF-8" in wrong.problems[0]["reason"]
    await import_region_file(session, path=bare, options=ReadOptions(attribute_map=MAP_ZH, encoding="GBK"))
    assert_same_rows(await snapshot(session), expected_rows(regions, geoms))


async def test_kml_with_pinyin_fields(session, regions, geoms, tmp_path) -> None:
    kml = write(tmp_path / "regions.kml", regions, geoms.reference, crs="EPSG:4326", fields=FIELDS_PINYIN,
                driver="LIBKML")
    done = await import_region_file(session, path=kml, options=ReadOptions(attribute_map=MAP_PINYIN))
    assert done.check.format == "KML" and done.written.inserted == 30
    # KML's ExtendedData is text: the population comes back as a string.
    want = {code: (*row[:4], {"RK": str(row[4]["人口"]), "FZR": row[4]["负责人"]}, row[5])
            for code, row in expected_rows(regions, geoms).items()}
    assert_same_rows(await snapshot(session), want)

    await session.execute(text("DELETE FROM regions"))
    kmz = write(tmp_path / "regions.kmz", regions, geoms.reference, crs="EPSG:4326", fields=FIELDS_PINYIN,
                driver="LIBKML")  # doc.kml and layers/regions.kml, zipped
    done = await import_region_file(session, path=kmz, options=ReadOptions(attribute_map=MAP_PINYIN))
    assert done.check.format == "KML"
    assert_same_rows(await snapshot(session), want)
