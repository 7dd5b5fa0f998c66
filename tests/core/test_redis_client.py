"""The process's Redis client waits for a free connection instead of failing a burst."""

from __future__ import annotations

import asyncio
import time

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from command.core.redis_client import make_redis
from tests.environment import make_test_settings

KEY = "{gc}:test:never-pushed"


async def test_a_burst_beyond_the_pool_waits_and_succeeds(redis) -> None:
    client = make_redis(make_test_settings(redis_max_connections=2))
    try:
        t0 = time.perf_counter()
        # Each call holds its connection for 0.1 s: 12 callers on 2 connections take 6 turns.
        results = await asyncio.gather(*(client.blpop([KEY], timeout=0.1) for _ in range(12)))
        elapsed = time.perf_counter() - t0
    finally:
        await client.aclose()
    assert results == [None] * 12
    assert elapsed >= 0.55, elapsed  # they queued for the two connections rather than opening more


async def test_waiting_is_bounded_by_the_pool_timeout(redis) -> None:
    client = make_redis(make_test_settings(redis_max_connections=1, redis_pool_timeout_s=0.05))
    try:
        outcomes = await asyncio.gather(*(client.blpop([KEY], timeout=0.5) for _ in range(2)), return_exceptions=True)
    finally:
        await client.aclose()
    assert outcomes.count(None) == 1
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert len(errors) == 1 and isinstance(errors[0], RedisConnectionError), outcomes


def test_pool_settings_are_validated() -> None:
    with pytest.raises(ValueError):
        make_test_settings(redis_max_connections=0)
