"""Fixed-window rate limit per client address for the public (no login) endpoints, counted in Redis
so every web process shares the count.

The client address is the connection's peer, as the ASGI server reports it. X-Forwarded-For is believed only
from the proxies named in GRIDCMD_TRUSTED_PROXIES (empty by default: none): `gridcmd serve` gives uvicorn exactly
that list (forwarded_allow_ips), so a client cannot pick its own address, and with it its own budget, by sending
the header (docs/security.md)."""

from __future__ import annotations

import time
from collections.abc import Callable

from fastapi import Request

from command.core.errors import RateLimited
from dispatch import keys
from web.deps import RedisDep
from web.openapi_errors import declare

WINDOW_S = 60


def client_address(request: Request) -> str:
    """The caller's address: the peer, or what a trusted proxy forwarded (see above)."""
    return request.client.host if request.client else "unknown"


def rate_limited(bucket: str, limit_of: Callable[[Request], int]) -> Callable:
    """A dependency refusing (429) a client's request beyond `limit_of(request)` per minute."""

    @declare(429)
    async def check(request: Request, redis: RedisDep) -> None:
        limit = limit_of(request)
        now = time.time()
        window = int(now) // WINDOW_S
        key = keys.rate_window(bucket, client_address(request), window)
        async with redis.pipeline(transaction=True) as pipe:
            count, _ = await pipe.incr(key).expire(key, WINDOW_S * 2).execute()
        if count > limit:
            raise RateLimited(f"too many requests; at most {limit} a minute",
                              retry_after_s=max(1, (window + 1) * WINDOW_S - int(now)))

    return check
