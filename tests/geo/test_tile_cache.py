"""Low-zoom tiles kept per process (web/api/tiles.py): served from memory within the TTL, deeper zooms never."""

from __future__ import annotations

import mapbox_vector_tile
import pytest
from sqlalchemy import text

from command.admin.users import create_user
from command.core.db import make_sessionmaker
from geo.imports import import_regions
from tests.geo.test_geo_api import tile_of
from tests.geo_samples import sample
from tests.helpers import app_client, login

_RESET = text("TRUNCATE regions, resource_points, users RESTART IDENTITY CASCADE")


@pytest.fixture
async def city(engine):
    async with engine.begin() as conn:
        await conn.execute(_RESET)
    async with make_sessionmaker(engine)() as s, s.begin():
        await import_regions(s, collection=sample())
        await create_user(s, username="li", password="secret-pw", role="worker")
    yield engine
    async with engine.begin() as conn:
        await conn.execute(_RESET)


def _names(body: bytes) -> set[str]:
    return {f["properties"]["name"] for f in mapbox_vector_tile.decode(body)["regions"]["features"]}


async def _rename_districts(engine, name: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE regions SET name = :n WHERE level = 'district'"), {"n": name})


async def test_low_zoom_tiles_come_from_memory_until_the_ttl(city, settings) -> None:
    async with app_client(settings) as client:
        client.headers.update(await login(client, "li", "secret-pw"))
        low, deep = (8, *tile_of(118.705, 32.005, 8)), (14, *tile_of(118.705, 32.005, 14))
        first_low = await client.get("/tiles/regions/{}/{}/{}.pbf".format(*low))
        first_deep = await client.get("/tiles/regions/{}/{}/{}.pbf".format(*deep))
        assert first_low.status_code == first_deep.status_code == 200
        await _rename_districts(city, "改名区")
        again_low = await client.get("/tiles/regions/{}/{}/{}.pbf".format(*low))
        again_deep = await client.get("/tiles/regions/{}/{}/{}.pbf".format(*deep))
        assert again_low.content == first_low.content  # from this process's cache
        assert "改名区" in _names(again_deep.content)  # z14 is built every time
        client.app.state.tile_cache.expire(time=float("inf"))  # as if the TTL had passed
        assert "改名区" in _names((await client.get("/tiles/regions/{}/{}/{}.pbf".format(*low))).content)


async def test_a_bad_tile_is_refused_and_nothing_is_cached(city, settings) -> None:
    async with app_client(settings) as client:
        client.headers.update(await login(client, "li", "secret-pw"))
        r = await client.get("/tiles/regions/3/9/0.pbf")
        assert r.status_code == 422, r.text
        assert len(getattr(client.app.state, "tile_cache", {})) == 0
