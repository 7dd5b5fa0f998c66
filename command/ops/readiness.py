"""Readiness: can this process reach PostgreSQL and Redis right now? Each check is one round trip bounded by a
timeout, so a load balancer polling GET /readyz gets its answer in at most `readiness_timeout_s` whatever state
the dependencies are in. (GET /healthz stays a liveness check: the process answers; nothing else is tried.)"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from command.core.outage import describe


@dataclass(frozen=True, slots=True)
class Check:
    ok: bool
    ms: float
    error: str | None = None

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"ok": self.ok, "ms": round(self.ms, 1)}
        if self.error is not None:
            out["error"] = self.error
        return out


async def _timed(probe: Callable[[], Awaitable[object]], timeout_s: float) -> Check:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout_s):
            await probe()
    except TimeoutError:
        return Check(False, (time.perf_counter() - started) * 1000, f"no answer within {timeout_s:g} s")
    except Exception as exc:  # any failure means "not ready"; the reason is reported, not raised
        return Check(False, (time.perf_counter() - started) * 1000, describe(exc))
    return Check(True, (time.perf_counter() - started) * 1000)


async def check_postgres(engine: AsyncEngine, *, timeout_s: float) -> Check:
    """A pooled connection and `SELECT 1` (a saturated pool is "not ready" too)."""
    async def probe() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    return await _timed(probe, timeout_s)


async def check_redis(redis: Redis, *, timeout_s: float) -> Check:
    return await _timed(redis.ping, timeout_s)


async def readiness(engine: AsyncEngine, redis: Redis, *, timeout_s: float) -> dict[str, Check]:
    """Both checks at once (the answer takes the slower of the two, at most timeout_s)."""
    postgres, live = await asyncio.gather(check_postgres(engine, timeout_s=timeout_s),
                                          check_redis(redis, timeout_s=timeout_s))
    return {"postgres": postgres, "redis": live}
