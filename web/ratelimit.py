"""Fixed-window rate limit per client address for the public (no login) endpoints, counted in Redis
so every web process shares the count."""

from __future__ import annotations

import time
from collections.abc import Callable

from fastapi import Depends, Request
from redis.asyncio import Redis

from command.errors import RateLimited
from dispatch import keys
from web.deps import get_redis

WINDOW_S = 60


def rate_limited(bucket: str, limit_of: Callable[[Request], int]) -> Callable:
    """A dependency refusing (429) a client's request beyond `limit_of(request)` per minute."""

    async def check(request: Request, redis: Redis = Depends(get_redis)) -> None:
        limit = limit_of(request)
        window = int(time.time()) // WINDOW_S
        client = request.client.host if request.client else "unknown"
        key = keys.rate_window(bucket, client, window)
        async with redis.pipeline(transaction=True) as pipe:
            count, _ = await pipe.incr(key).expire(key, WINDOW_S * 2).execute()
        if count > limit:
            raise RateLimited(f"too many requests; at most {limit} a minute")

    return check
