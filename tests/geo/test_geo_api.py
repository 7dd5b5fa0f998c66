"""GET /api/v1/locate and GET /tiles/{layer}/{z}/{x}/{y}.pbf through the real app."""

from __future__ import annotations

import math

import mapbox_vector_tile
import numpy as np
import pytest
import shapely
from shapely.geometry import box as bbox
from shapely.geometry import shape
from sqlalchemy import text

from command.admin.users import create_user
from command.core.db import make_sessionmaker
from geo.coords import from_wgs84
from geo.imports import import_regions
from tests.geo_samples import sample
from tests.helpers import app_client, login

MVT = "application/vnd.mapbox-vector-tile"


_RESET = text("TRUNCATE regions, resource_points, users RESTART IDENTITY CASCADE")


@pytest.fixture(scope="module")
async def city(engine):
    """The sample regions, two resource points and a worker account, committed once for this module (the tests
    only read); emptied again afterwards."""
    async with engine.begin() as conn:
        await conn.execute(_RESET)
    async with make_sessionmaker(engine)() as s, s.begin():
        await import_regions(s, collection=sample())
        await create_user(s, username="wang", password="secret-pw", role="worker")
        await create_user(s, username="li", password="secret-pw", role="operator", region_code="C1")
        await s.execute(text("INSERT INTO resource_points (kind, name, region_code, geom) VALUES "
                             "('hydrant', '消火栓1', 'G1', ST_SetSRID(ST_MakePoint(118.705, 32.005), 4326)), "
                             "('aed', 'AED 1', 'C3', ST_SetSRID(ST_MakePoint(118.735, 32.015), 4326))"))
    yield engine
    async with engine.begin() as conn:
        await conn.execute(_RESET)


@pytest.fixture(scope="module")
async def client(city, settings):
    async with app_client(settings) as c:
        c.headers.update(await login(c, "wang", "secret-pw"))
        yield c


# --- locate -------------------------------------------------------------------------------------------------

async def test_locate_inside(client) -> None:
    r = await client.get("/api/v1/locate", params={"lon": 118.705, "lat": 32.005})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["outside"] is False
    assert body["region"] == {"code": "G1", "name": "名称G1", "level": "grid"}
    assert [c["code"] for c in body["chain"]] == ["G1", "C1", "S1", "D1"]
    assert body["chain"][-1]["level"] == "district"


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
async def test_a_chinese_map_point_locates_like_its_wgs84_twin(client, crs: str) -> None:
    # G1 is 1 km wide; the GCJ-02 shift here is ~500 m, so a point near G1's east edge read as WGS-84 would fall
    # in the next region: the conversion must happen.
    wgs = (118.7085, 32.0085)
    lon, lat = from_wgs84(*wgs, crs)
    as_is = (await client.get("/api/v1/locate", params={"lon": lon, "lat": lat})).json()
    assert as_is["region"]["code"] != "G1"
    twin = (await client.get("/api/v1/locate", params={"lon": wgs[0], "lat": wgs[1]})).json()
    got = (await client.get("/api/v1/locate", params={"lon": lon, "lat": lat, "crs": crs})).json()
    assert got["region"] == twin["region"] == {"code": "G1", "name": "名称G1", "level": "grid"}
    assert got["chain"] == twin["chain"]
    assert got["point"]["lon"] == pytest.approx(wgs[0], abs=1e-7)


async def test_locate_outside(client) -> None:
    near = (await client.get("/api/v1/locate", params={"lon": 118.705, "lat": 31.9995})).json()  # ~55 m south
    assert near["outside"] is True and near["region"]["code"] == "G1" and 40 < near["distance_m"] < 70
    far = (await client.get("/api/v1/locate", params={"lon": 118.705, "lat": 31.99})).json()
    assert far == {"outside": True, "region": None, "chain": [], "distance_m": 0.0,
                   "point": {"lon": 118.705, "lat": 31.99, "crs": "wgs84"}}


@pytest.mark.parametrize("params", [
    {"lon": 181, "lat": 32}, {"lon": 118, "lat": -90.5}, {"lon": "east", "lat": 32}, {"lat": 32},
    {"lon": 118.7, "lat": 32, "crs": "epsg3857"}, {"lon": "nan", "lat": 32},
])
async def test_locate_bad_input_is_422(client, params: dict) -> None:
    r = await client.get("/api/v1/locate", params=params)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "invalid_input"


async def test_locate_needs_a_token(city, settings, redis) -> None:
    async with app_client(settings) as anon:
        r = await anon.get("/api/v1/locate", params={"lon": 118.705, "lat": 32.005})
        assert r.status_code == 401
        r = await anon.get("/api/v1/locate", params={"lon": 118.705, "lat": 32.005},
                           headers={"Authorization": "Bearer forged.token.here"})
        assert r.status_code == 401


# --- tiles --------------------------------------------------------------------------------------------------

def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 1 << z
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return int((lon + 180) / 360 * n), int(y)


def tile_bounds(z: int, x: int, y: int, margin: float = 0.0) -> tuple[float, float, float, float]:
    n = 1 << z

    def lat(yy: float) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * yy / n))))

    return ((x - margin) / n * 360 - 180, lat(y + 1 + margin), (x + 1 + margin) / n * 360 - 180, lat(y - margin))


async def fetch(client, layer: str, z: int, x: int, y: int):
    return await client.get(f"/tiles/{layer}/{z}/{x}/{y}.pbf")


@pytest.mark.parametrize("z, levels", [(14, {"district", "street", "community", "grid"}),
                                       (12, {"district", "street", "community"}),
                                       (10, {"district", "street"}), (8, {"district"})])
async def test_regions_tile_decodes_and_holds_what_intersects_it(client, z: int, levels: set[str]) -> None:
    x, y = tile_of(118.705, 32.005, z)
    r = await fetch(client, "regions", z, x, y)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == MVT
    assert "private" in r.headers["cache-control"] and r.headers["etag"]
    features = mapbox_vector_tile.decode(r.content)["regions"]["features"]
    got = {f["properties"]["code"]: f["properties"] for f in features}
    assert {p["level"] for p in got.values()} == levels
    assert got["D1"] == {"code": "D1", "name": "名称D1", "level": "district", "depth": 0}  # no parent: omitted
    if "grid" in levels:
        assert got["G1"]["parent"] == "C1" and got["G1"]["name"] == "名称G1"
    # Exactly the regions of those levels that meet the tile (± the clip buffer), as shapely sees them.
    inner, outer = bbox(*tile_bounds(z, x, y)), bbox(*tile_bounds(z, x, y, margin=64 / 4096))
    expect_min = {f["properties"]["code"] for f in sample()["features"]
                  if f["properties"]["level"] in levels and shape(f["geometry"]).intersects(inner)}
    expect_max = {f["properties"]["code"] for f in sample()["features"]
                  if f["properties"]["level"] in levels and shape(f["geometry"]).intersects(outer)}
    assert expect_min <= set(got) <= expect_max
    assert {f["geometry"]["type"] for f in features} <= {"Polygon", "MultiPolygon"}
    if z == 14:  # G1's outline survives: back from tile pixels (y up) to lon/lat, it overlaps the source > 99%
        west, south, east, north = tile_bounds(z, x, y)
        g1 = shape(next(f["geometry"] for f in features if f["properties"]["code"] == "G1"))
        back = shapely.transform(g1, lambda p: np.column_stack((west + p[:, 0] / 4096 * (east - west),
                                                                 south + p[:, 1] / 4096 * (north - south))))
        src = shape(sample()["features"][6]["geometry"]).intersection(outer)  # clipped with the 64 px buffer
        assert back.intersection(src).area / back.union(src).area > 0.99


async def test_resources_tile(client) -> None:
    # The rule of /api/v1/screen/resources: a worker sees no resources layer; an operator, those of their region.
    x, y = tile_of(118.705, 32.005, 14)
    r = await fetch(client, "resources", 14, x, y)
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    operator = await login(client, "li", "secret-pw")  # region C1: holds G1's hydrant, not C3's AED
    r = await client.get(f"/tiles/resources/14/{x}/{y}.pbf", headers=operator)
    assert r.status_code == 200
    features = mapbox_vector_tile.decode(r.content)["resources"]["features"]
    assert {(f["properties"]["kind"], f["properties"]["region_code"]) for f in features} == {("hydrant", "G1")}
    assert features[0]["geometry"]["type"] == "Point"
    x, y = tile_of(118.735, 32.015, 14)
    r = await client.get(f"/tiles/resources/14/{x}/{y}.pbf", headers=operator)
    assert r.status_code == 204  # C3's AED is outside C1: not in the operator's tile
    x, y = tile_of(118.705, 32.005, 10)
    r = await client.get(f"/tiles/resources/10/{x}/{y}.pbf", headers=operator)
    assert r.status_code == 204  # below the layer's zoom


async def test_empty_tile_is_204_and_etag_gives_304(client) -> None:
    r = await fetch(client, "regions", 14, 0, 0)
    assert r.status_code == 204 and r.content == b""
    x, y = tile_of(118.705, 32.005, 13)
    first = await fetch(client, "regions", 13, x, y)
    again = await client.get(f"/tiles/regions/13/{x}/{y}.pbf", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


@pytest.mark.parametrize("path", ["/tiles/regions/23/0/0.pbf", "/tiles/regions/-1/0/0.pbf",
                                  "/tiles/regions/2/4/0.pbf", "/tiles/regions/2/0/4.pbf",
                                  "/tiles/regions/2/-1/0.pbf", "/tiles/regions/a/0/0.pbf"])
async def test_invalid_tile_address_is_422(client, path: str) -> None:
    r = await client.get(path)
    assert r.status_code == 422, r.text


async def test_unknown_layer_is_404_and_tiles_need_a_token(client, settings) -> None:
    assert (await fetch(client, "incidentz", 1, 0, 0)).status_code == 404
    async with app_client(settings) as anon:
        assert (await anon.get("/tiles/regions/14/13597/6656.pbf")).status_code == 401
