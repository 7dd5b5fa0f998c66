"""The login and wall-display pages (served shells, strings from the catalogue, CSP) and GET /api/v1/screen/config."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from sqlalchemy import text

from command.core.errors import Forbidden
from command.core.security import Principal
from command.demo.people import DEMO_PASSWORD
from command.reports.screen import screen_config
from tests.helpers import app_client, login
from web.app import create_app


@asynccontextmanager
async def page_client(settings) -> AsyncIterator[httpx.AsyncClient]:
    """The pages are shells that touch neither PostgreSQL nor Redis, so no lifespan (pools, hub) is needed."""
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def test_pages_are_chinese_by_default_and_english_on_request(settings) -> None:
    async with page_client(settings) as client:
        r = await client.get("/login")
        assert r.status_code == 200 and '<html lang="zh-CN">' in r.text and "登录" in r.text
        odd = await client.get("/screen?lang=klingon")
        assert '<html lang="zh-CN">' in odd.text and "指挥大屏" in odd.text
        en = await client.get("/login?lang=en")
        assert '<html lang="en">' in en.text and "Sign in" in en.text
        assert en.cookies.get("lang") == "en"
        again = await client.get("/screen")  # the choice sticks (cookie)
        assert '<html lang="en">' in again.text and "Wall display" in again.text


async def test_pages_load_nothing_from_another_host(settings) -> None:
    async with page_client(settings) as client:
        for path in ("/login", "/screen"):
            r = await client.get(path)
            assert not re.search(r"(src|href)=\"(https?:)?//", r.text), path
            csp = r.headers["content-security-policy"]
            assert "default-src 'self'" in csp and "script-src 'self';" in csp and "http" not in csp


async def test_configured_basemap_host_is_the_only_extra_origin(settings) -> None:
    custom = settings.model_copy(update={"basemap_url": "http://tiles.intranet.gov:8080/{z}/{x}/{y}.png"})
    async with page_client(custom) as client:
        csp = (await client.get("/screen")).headers["content-security-policy"]
    assert "img-src 'self' data: blob: http://tiles.intranet.gov:8080;" in csp


async def test_root_goes_to_the_screen(settings) -> None:
    async with page_client(settings) as client:
        r = await client.get("/", follow_redirects=False)
        assert r.status_code == 302 and r.headers["location"] == "/screen"


async def test_screen_config_needs_a_token_and_a_screen_role(demo_db, settings, redis) -> None:
    async with app_client(settings) as client:
        assert (await client.get("/api/v1/screen/config")).status_code == 401
        worker = await login(client, "w0001", DEMO_PASSWORD)
        r = await client.get("/api/v1/screen/config", headers=worker)
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"


async def test_screen_config_is_scoped_to_the_callers_region(demo_db, settings, redis) -> None:
    async with app_client(settings) as client:
        district = (await client.get("/api/v1/screen/config",
                                     headers=await login(client, "operator", DEMO_PASSWORD))).json()
        street = (await client.get("/api/v1/screen/config",
                                   headers=await login(client, "op-2", DEMO_PASSWORD))).json()
        police = (await client.get("/api/v1/screen/config",
                                   headers=await login(client, "l-police-2", DEMO_PASSWORD))).json()
        admin = (await client.get("/api/v1/screen/config",
                                  headers=await login(client, "admin", DEMO_PASSWORD))).json()
    assert district["region"] == {"code": "320102", "name": "城南区", "level": "district"}
    assert admin["bounds"] == district["bounds"]
    assert street["region"]["code"] == police["region"]["code"] == "320102002"
    dx0, dy0, dx1, dy1 = district["bounds"]
    sx0, sy0, sx1, sy1 = street["bounds"]
    assert dx0 <= sx0 < sx1 <= dx1 and dy0 <= sy0 < sy1 <= dy1 and (sx1 - sx0) < (dx1 - dx0)
    assert 118.6 < dx0 < dx1 < 118.95 and 31.95 < dy0 < dy1 < 32.15
    assert district["tiles"]["regions"] == "/tiles/regions/{z}/{x}/{y}.pbf"
    assert district["level_min_zoom"]["district"] == 0 and district["basemap_url"] is None


async def test_screen_config_without_regions_has_no_bounds(demo_db, session, settings) -> None:
    await session.execute(text("TRUNCATE regions CASCADE"))  # rolled back with the test's transaction
    admin = Principal(user_id=1, username="admin", role="admin")
    config = await screen_config(session, principal=admin, settings=settings)
    assert config["bounds"] is None and config["region"] is None


async def test_screen_config_refuses_a_worker_directly(session, settings) -> None:
    with pytest.raises(Forbidden):
        await screen_config(session, principal=Principal(user_id=1, username="w", role="worker"), settings=settings)
