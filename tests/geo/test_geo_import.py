"""Importing region files: tree, paths, MultiPolygon, bounded repair, re-import by code, and the CLI."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest
from shapely import wkb
from sqlalchemy import text

from geo.errors import GeoInputError
from geo.imports import import_regions
from geo.shapes import MAX_AREA_CHANGE, geodesic_area
from tests.geo_samples import box, edited, feature, fingerprint, sample, twisted_square, without_regions


@pytest.fixture
async def session(session):
    """The shared rolled-back session, starting from an empty regions table."""
    return await without_regions(session)


async def rows(session) -> dict[str, dict]:
    result = await session.execute(text(
        "SELECT r.code, r.name, r.level, r.depth, p.code AS parent, r.path, ST_GeometryType(r.geom) AS gtype, "
        "ST_IsValid(r.geom) AS valid, r.properties, ST_AsBinary(r.geom) AS wkb "
        "FROM regions r LEFT JOIN regions p ON p.id = r.parent_id"))
    return {r.code: r._asdict() for r in result}


async def test_import_builds_the_tree(session) -> None:
    report = await import_regions(session, collection=sample())
    assert (report.inserted, report.updated, report.repaired) == (8, 0, [])
    got = await rows(session)
    assert got["D1"]["parent"] is None and got["D1"]["path"] == ["D1"] and got["D1"]["depth"] == 0
    assert got["G1"]["parent"] == "C1" and got["G1"]["path"] == ["D1", "S1", "C1", "G1"] and got["G1"]["depth"] == 3
    assert got["G3"]["path"] == ["D1", "S2", "C3", "G3"]
    assert {r["gtype"] for r in got.values()} == {"ST_MultiPolygon"}
    assert all(r["valid"] for r in got.values())
    assert got["S2"]["properties"] == {"population": 12000}
    assert got["S2"]["name"] == "名称S2" and got["S2"]["level"] == "street"


async def test_multipolygon_and_numeric_codes(session) -> None:
    coll = {"type": "FeatureCollection", "features": [
        feature(320102, "district", None, [box(0, 0, 1, 1), box(2, 0, 3, 1)], gtype="MultiPolygon"),
        feature("320102001", "street", 320102, box(0, 0, 1, 1)),
    ]}
    await import_regions(session, collection=coll)
    got = await rows(session)
    assert got["320102"]["gtype"] == "ST_MultiPolygon" and len(wkb.loads(got["320102"]["wkb"]).geoms) == 2
    assert got["320102001"]["path"] == ["320102", "320102001"]


async def test_parent_already_in_the_database(session) -> None:
    await import_regions(session, collection=sample())
    more = {"type": "FeatureCollection", "features": [feature("G2", "grid", "C1", box(1, 0, 2, 1))]}
    report = await import_regions(session, collection=more)
    assert (report.inserted, report.updated) == (1, 0)
    assert (await rows(session))["G2"]["path"] == ["D1", "S1", "C1", "G2"]


@pytest.mark.parametrize("e", [0.005, 0.02, 0.03, 0.035, 0.05])
async def test_repair_only_within_a_tenth_of_a_percent(session, e: float) -> None:
    from shapely.geometry import shape
    from shapely.validation import make_valid

    geometry = twisted_square(e)
    raw = shape(geometry)
    assert not raw.is_valid
    change = abs(geodesic_area(make_valid(raw)) - geodesic_area(raw)) / geodesic_area(raw)
    coll = edited(sample(), 6, geometry=geometry)
    if change <= MAX_AREA_CHANGE:
        report = await import_regions(session, collection=coll)
        assert report.repaired == ["G1"]
        stored = (await rows(session))["G1"]
        assert stored["valid"]
        assert abs(geodesic_area(wkb.loads(stored["wkb"])) - geodesic_area(raw)) / geodesic_area(raw) <= 0.001
    else:
        with pytest.raises(GeoInputError) as info:
            await import_regions(session, collection=coll)
        assert info.value.details[0]["code"] == "G1"  # type: ignore[index]
        assert "repair would change its area" in info.value.details[0]["reason"]  # type: ignore[index]
        assert (await fingerprint(session))[0] == 0


async def test_reimport_updates_by_code(session) -> None:
    await import_regions(session, collection=sample())
    ids = dict((await session.execute(text("SELECT code, id FROM regions"))).all())
    again = edited(sample(), 6, name="新名字", geometry={"type": "Polygon", "coordinates": box(0, 0, 0.5, 0.5)})
    report = await import_regions(session, collection=again)
    assert (report.inserted, report.updated) == (0, 8)
    got = await rows(session)
    assert got["G1"]["name"] == "新名字"
    assert wkb.loads(got["G1"]["wkb"]).bounds == pytest.approx((118.70, 32.0, 118.705, 32.005))
    assert dict((await session.execute(text("SELECT code, id FROM regions"))).all()) == ids  # same rows, updated


async def test_reparent_recomputes_descendant_paths(session) -> None:
    await import_regions(session, collection=sample())
    move = {"type": "FeatureCollection", "features": [feature("C3", "community", "S1", box(2, 0, 4, 4))]}
    report = await import_regions(session, collection=move)
    assert (report.updated, report.descendants_repathed) == (1, 1)
    got = await rows(session)
    assert got["C3"]["parent"] == "S1" and got["C3"]["path"] == ["D1", "S1", "C3"]
    assert got["G3"]["path"] == ["D1", "S1", "C3", "G3"]  # stored child, not in the file
    # Moving a street carries its whole stored subtree.
    top = {"type": "FeatureCollection", "features": [feature("D2", "district", None, box(0, 0, 4, 4)),
                                                     feature("S1", "street", "D2", box(0, 0, 2, 4))]}
    report = await import_regions(session, collection=top)
    got = await rows(session)
    assert got["G1"]["path"] == ["D2", "S1", "C1", "G1"] and got["G3"]["path"] == ["D2", "S1", "C3", "G3"]
    assert report.descendants_repathed == 5  # C1, C2, C3, then G1, G3


async def test_progress_bar_on_request(session, capsys) -> None:
    await import_regions(session, collection=sample(), progress=True, batch_size=3)
    assert "8/8" in capsys.readouterr().err
    await import_regions(session, collection=sample(), progress=False)
    assert capsys.readouterr().err == ""


async def _cli(path, settings) -> tuple[int, str, str]:
    env = {**os.environ, "DATABASE_URL": settings.database_url}
    # The installed console script, as a user runs it.
    gridcmd = str(Path(sys.executable).with_name("gridcmd"))
    proc = await asyncio.create_subprocess_exec(gridcmd, "import-regions", str(path),
                                                "--no-progress", env=env, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    return proc.returncode, out.decode(), err.decode()  # type: ignore[return-value]


@pytest.fixture
async def committed(clean_db):
    """For tests whose writes are committed by another process: empty before, emptied after."""
    yield clean_db
    async with clean_db.begin() as conn:
        await conn.execute(text("TRUNCATE regions RESTART IDENTITY CASCADE"))


async def test_cli_imports_a_file_and_rejects_a_bad_one(committed, settings, tmp_path) -> None:
    good = tmp_path / "good.geojson"
    good.write_text(json.dumps(sample(), ensure_ascii=False))
    code, out, err = await _cli(good, settings)
    assert code == 0, err
    assert "imported 8 regions" in out and "8 new" in out
    async with committed.connect() as conn:
        before = (await conn.execute(text("SELECT count(*) FROM regions"))).scalar_one()
    assert before == 8

    bad_coll = edited(edited(sample(), 6, level="village"), 7, parent_code="nowhere")
    bad_coll["features"][2]["geometry"] = {"type": "Point", "coordinates": [118.72, 32.01]}
    bad = tmp_path / "bad.geojson"
    bad.write_text(json.dumps(bad_coll))
    code, out, err = await _cli(bad, settings)
    assert code != 0
    assert "3 error(s)" in err
    assert "feature #2 (code 'S2'): non-polygon geometry 'Point'" in err
    assert "feature #6 (code 'G1'): unknown level 'village'" in err
    assert "feature #7 (code 'G3'): unknown parent 'nowhere'" in err

    notjson = tmp_path / "bad.txt"
    notjson.write_text("{oops")
    code, _, err = await _cli(notjson, settings)
    assert code != 0 and "not GeoJSON" in err
    async with committed.connect() as conn:
        fp = await conn.execute(text("SELECT count(*), string_agg(level, ',' ORDER BY code) FROM regions"))
        assert fp.one() == (8, "community,community,community,district,grid,grid,street,street")
