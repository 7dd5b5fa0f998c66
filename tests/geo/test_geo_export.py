"""Export (geo/export.py, `gridcmd export`): regions as GeoPackage and GeoJSON read back by the import into the same
rows; resource points and incidents as point layers (the reporter's name and phone never leave); bad requests
refused with a message."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pyogrio
import pytest
import shapely
from pyogrio import raw
from sqlalchemy import text

from geo.export import region_rows, resource_rows, write_features
from geo.region_files import ReadOptions, import_region_file
from tests.geo_files import GK_ZONE_40, MAP_ZH, Geometries, design, snapshot, write

ROUND_TRIP = 1e-8  # degrees: GeoJSON is written to 9 decimals


@pytest.fixture
async def loaded(session, tmp_path):
    await session.execute(text("DELETE FROM regions"))
    regions = design()
    shp = write(tmp_path / "in.shp", regions, Geometries(regions).projected, crs=GK_ZONE_40, encoding="GBK")
    await import_region_file(session, path=shp, options=ReadOptions(attribute_map=MAP_ZH))
    return session


@pytest.mark.parametrize("name", ["regions.gpkg", "regions.geojson"])
async def test_regions_round_trip(loaded, tmp_path, name) -> None:
    session = loaded
    before = await snapshot(session)
    path = tmp_path / name
    assert write_features(path, await region_rows(session), layer="regions") == 30
    info = pyogrio.read_info(path)
    assert list(info["fields"]) == ["code", "name", "level", "parent_code", "人口", "负责人"]
    assert info["crs"] == "EPSG:4326"
    if name.endswith(".geojson"):
        doc = json.loads(path.read_text())
        assert "crs" not in doc  # RFC 7946: WGS-84 longitude/latitude, no crs member
        assert doc["features"][0]["properties"]["name"] == "西溪街道"
    await session.execute(text("DELETE FROM regions"))
    done = await import_region_file(session, path=path)  # the project's own field names: no --map needed
    assert done.written.inserted == 30 and done.check.source_crs.endswith("(EPSG:4326)")
    after = await snapshot(session)
    assert sorted(after) == sorted(before)
    for code, row in before.items():
        assert after[code][:5] == row[:5]
        assert shapely.hausdorff_distance(after[code][5], row[5]) < ROUND_TRIP
    if name.endswith(".gpkg"):  # full precision: the very same coordinates
        assert all(shapely.to_wkb(after[c][5]) == shapely.to_wkb(r[5]) for c, r in before.items())

    grids = await region_rows(session, level="grid")
    assert len(grids) == 24 and {r["level"] for r in grids} == {"grid"}


async def test_resource_points(session, tmp_path) -> None:
    await session.execute(text("DELETE FROM resource_points"))
    await session.execute(text(
        "INSERT INTO resource_points (kind, name, region_code, geom, properties) VALUES "
        "('hydrant', '消火栓 1', 'G1', ST_SetSRID(ST_MakePoint(120.1, 30.26), 4326), '{\"pressure_mpa\": 0.3}'), "
        "('shelter', '避难场所', NULL, ST_SetSRID(ST_MakePoint(120.2, 30.27), 4326), '{}')"))
    rows = await resource_rows(session)
    path = tmp_path / "res.gpkg"
    write_features(path, rows, layer="resources")
    meta, _, geoms, columns = raw.read(path)
    assert list(meta["fields"]) == ["id", "kind", "name", "region_code", "pressure_mpa"]
    assert meta["geometry_type"] == "Point"
    assert columns[2].tolist() == ["消火栓 1", "避难场所"] and columns[3].tolist() == ["G1", None]
    assert [shapely.from_wkb(g).coords[0] for g in geoms] == [(120.1, 30.26), (120.2, 30.27)]
    assert len(await resource_rows(session, kind="shelter")) == 1


async def _export(settings, *args: str) -> tuple[int, str, str]:
    env = {**os.environ, "DATABASE_URL": settings.database_url}
    proc = await asyncio.create_subprocess_exec(str(Path(sys.executable).with_name("gridcmd")), "export",
                                                *map(str, args), env=env, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    return proc.returncode or 0, out.decode(), err.decode()


async def test_cli_exports_incidents_without_the_reporter(clean_db, settings, tmp_path) -> None:
    async with clean_db.begin() as conn:
        await conn.execute(text("INSERT INTO categories (code, name_zh, name_en, \"group\", default_priority, "
                                "item_type) VALUES ('fire', '火情', 'Fire', 'emergency', 1, 'immediate')"))
        for i, created in enumerate([datetime(2026, 3, 1, 2, tzinfo=UTC), datetime(2026, 3, 5, 2, tzinfo=UTC)]):
            await conn.execute(text(
                "INSERT INTO incidents (public_id, category_code, description, priority, item_type, status, channel, "
                "lon, lat, geom, region_code, region_path, reporter_name, reporter_phone, created_at) VALUES "
                "(:pid, 'fire', :d, 1, 'immediate', 'new', 'phone', 120.1, 30.26, "
                "ST_SetSRID(ST_MakePoint(120.1, 30.26), 4326), 'G1', ARRAY['G1'], '张三', '13800000000', :c)"),
                {"pid": uuid.UUID(int=i + 1), "d": f"冒烟 {i}", "c": created})
    path = tmp_path / "incidents.gpkg"
    code, out, err = await _export(settings, "incidents", path)
    assert code == 0, err
    assert out.strip() == f"wrote 2 incidents to {path} (gpkg)"
    meta, _, geoms, columns = raw.read(path)
    fields = list(meta["fields"])
    assert "reporter_name" not in fields and "reporter_phone" not in fields
    values = dict(zip(fields, (c.tolist() for c in columns), strict=True))
    assert values["public_id"] == [str(uuid.UUID(int=1)), str(uuid.UUID(int=2))]
    assert values["description"] == ["冒烟 0", "冒烟 1"]
    assert values["created_at"][0].startswith("2026-03-01T02:00:00")
    assert shapely.from_wkb(geoms[0]).coords[0] == (120.1, 30.26)

    since = tmp_path / "since.geojson"
    code, out, err = await _export(settings, "incidents", since, "--since", "2026-03-05")
    assert code == 0, err
    assert [f["properties"]["description"] for f in json.loads(since.read_text())["features"]] == ["冒烟 1"]

    code, _, err = await _export(settings, "incidents", tmp_path / "x.geojson", "--since", "March")
    assert code == 2 and "--since 'March' is not a date (YYYY-MM-DD)" in err
    code, _, err = await _export(settings, "regions", tmp_path / "regions.csv")
    assert code == 2 and "cannot tell the format from 'regions.csv'" in err
    assert not (tmp_path / "x.geojson").exists() and not (tmp_path / "regions.csv").exists()
