"""The shared world of the in-process dispatch tests: an operator and four workers around the district."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from command.core.db import make_sessionmaker
from command.core.settings import Settings
from tests.dispatch_fixtures import Who, add_user, add_worker, at, go_live, place, seed_world
from tests.environment import make_test_settings
from web.app import create_app


@dataclass
class World:
    op: Who        # city-level operator (no region: sees everything)
    near: Who      # at (0.55, 1.5), in CA1
    mid: Who       # at (0.5, 2.3), in CA2
    far: Who       # at (1.8, 3.5), in CA2
    grid: Who      # at (0.05, 0.05), serves grid GA1


@pytest.fixture(name="dsettings")
def dsettings_fixture() -> Settings:
    """No background loops: tests drive timers and the sweeper themselves."""
    return make_test_settings(dispatch_background=False)


async def build_world(engine: AsyncEngine, redis: Redis, settings: Settings, **rule: object) -> World:
    async with make_sessionmaker(engine)() as s, s.begin():
        await seed_world(s, **rule)
        op = await add_user(s, settings, username="op", role="operator")
        near = await add_worker(s, settings, name="张近", home=at(0.6, 1.5))
        mid = await add_worker(s, settings, name="赵中", home=at(0.5, 2.3))
        far = await add_worker(s, settings, name="李远", home=at(1.8, 3.5))
        grid = await add_worker(s, settings, name="王格", home=at(0.05, 0.05), grid_codes=["GA1"])
    await go_live(engine, redis, settings)
    world = World(op, near, mid, far, grid)
    await place(redis, near, at(0.55, 1.5))
    await place(redis, mid, at(0.5, 2.3))
    await place(redis, far, at(1.8, 3.5))
    await place(redis, grid, at(0.05, 0.05))
    return world


@pytest.fixture(name="world")
async def world_fixture(clean_db: AsyncEngine, redis: Redis, dsettings: Settings) -> World:
    return await build_world(clean_db, redis, dsettings)


def alert(where: tuple[float, float] = (0.5, 1.5), **kw: object) -> dict:
    lon, lat = at(*where)
    body: dict = {"category": "dispute", "description": "邻里纠纷", "lon": lon, "lat": lat, "channel": "hotline"}
    body.update(kw)
    return body


@asynccontextmanager
async def dispatch_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The real app in-process, without the WebSocket hub's hooks: these tests open no socket, and the hub's
    bounded shutdown wait would add seconds to every test. Events are still published (web.deps)."""
    app = create_app(settings)
    app.state.startup_hooks[:] = [h for h in app.state.startup_hooks if h.__module__ != "web.hub"]
    app.state.shutdown_hooks[:] = [h for h in app.state.shutdown_hooks if h.__module__ != "web.hub"]
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            client.app = app  # type: ignore[attr-defined]
            yield client
