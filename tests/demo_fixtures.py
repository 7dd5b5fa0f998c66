"""A test database holding the demo city (seed 7), for the modules that ask for it.

Other modules empty the tables (clean_db), so each module checks the city is still there and loads it again
if not (two to ten seconds, with argon2 and the import); the work the previous module left (incidents, orders…)
is cleared either way. Import the fixture into a module: `from tests.demo_fixtures import demo_db`."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from command.core.db import make_sessionmaker
from command.core.settings import Settings
from command.demo.load import counts, load_demo
from tests.environment import MUTABLE_TABLES, empty_tables_sql, redis_client

REFERENCE = ("regions", "departments", "categories", "routing_rules", "users", "workers", "resource_points",
             "service_items")
DEMO_COUNTS = {"regions": 1837, "departments": 17, "categories": 22, "routing_rules": 22, "users": 346,
               "workers": 320, "resource_points": 704,
               "service_items": 56}


@pytest.fixture(scope="module")
async def demo_db(engine: AsyncEngine, settings: Settings) -> AsyncEngine:
    async with make_sessionmaker(engine)() as s:
        present = await counts(s) == DEMO_COUNTS
    work = [t for t in MUTABLE_TABLES if t not in REFERENCE]
    async with engine.begin() as conn:
        await conn.execute(empty_tables_sql(work if present else MUTABLE_TABLES))
    if not present:
        async with make_sessionmaker(engine)() as s, s.begin():
            await load_demo(s, seed=7)
    redis = redis_client(settings.redis_url)  # on a cluster: every master's database
    await redis.flushdb()  # live state (positions, claims, the event stream) of earlier modules
    await redis.aclose()
    return engine
