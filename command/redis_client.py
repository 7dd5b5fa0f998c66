"""The process's Redis client."""

from __future__ import annotations

from redis.asyncio import BlockingConnectionPool, Redis

from command.settings import Settings


def make_redis(settings: Settings) -> Redis:
    """A client whose pool waits for a free connection. redis-py's default pool raises MaxConnectionsError the
    moment more than its 100 connections are wanted at once, which a burst of requests in one process reaches
    (the benchmark's transport floor saw it as HTTP 500s after a pause); waiting a few milliseconds is right."""
    pool = BlockingConnectionPool.from_url(settings.redis_url, decode_responses=True,
                                           max_connections=settings.redis_max_connections,
                                           timeout=settings.redis_pool_timeout_s)
    return Redis(connection_pool=pool)
