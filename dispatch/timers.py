"""Ack deadline timers: a ZSET of order id by due time, popped atomically so each fires in one process.

The timers are a fast path only; PostgreSQL's orders.ack_due_at is the truth and the sweeper re-drives any
offered order past its deadline whose timer was lost."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from redis.asyncio import Redis

from dispatch import keys
from dispatch.scripts import script


async def schedule(redis: Redis, due_ms: Mapping[int, int]) -> None:
    """Set (or move) the ack deadline of each order, in unix milliseconds."""
    if due_ms:
        await redis.zadd(keys.ACK_TIMERS, {str(k): v for k, v in due_ms.items()})


async def cancel(redis: Redis, order_ids: Sequence[int]) -> None:
    if order_ids:
        await redis.zrem(keys.ACK_TIMERS, *(str(o) for o in order_ids))


async def pop_due(redis: Redis, *, limit: int = 100) -> list[int]:
    """Remove and return the order ids whose deadline has passed (by the Redis clock)."""
    return [int(o) for o in await script(redis, "pop_due")(keys=[keys.ACK_TIMERS], args=[limit])]


async def next_due_ms(redis: Redis) -> int | None:
    first = await redis.zrange(keys.ACK_TIMERS, 0, 0, withscores=True)
    return int(first[0][1]) if first else None
