"""Fixtures shared by the /ws suites: one Redis database flushed per module, the seeded city, sockets closed
after every test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from tests.environment import make_test_settings, redis_client
from tests.ws_fixtures import City, seed_city
from tests.ws_helpers import close_all


@pytest.fixture(autouse=True)
async def _close_sockets() -> AsyncIterator[None]:
    yield
    await close_all()


@pytest.fixture(scope="module")
async def rds() -> AsyncIterator[Redis]:
    client = redis_client(make_test_settings().redis_url)  # on a cluster too (GRIDCMD_TEST_REDIS_CLUSTER)
    await client.flushdb()
    yield client
    await client.aclose()


@pytest.fixture(scope="module")
async def city(engine, rds: Redis) -> City:
    return await seed_city(engine, make_test_settings())
