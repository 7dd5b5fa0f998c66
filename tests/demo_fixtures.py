"""A test database holding the demo city (seed 7), loaded once per module that asks for it.

Other modules empty the tables (clean_db), so each module that needs the city truncates and loads it again;
that takes about two seconds. Import the fixture into a module: `from tests.demo_fixtures import demo_db`."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from command.db import make_sessionmaker
from command.demo.load import load_demo
from tests.conftest import MUTABLE_TABLES


@pytest.fixture(scope="module")
async def demo_db(engine: AsyncEngine) -> AsyncEngine:
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {', '.join(MUTABLE_TABLES)} RESTART IDENTITY CASCADE"))
    async with make_sessionmaker(engine)() as s, s.begin():
        await load_demo(s, seed=7)
    return engine
