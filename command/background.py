"""The dispatch background loops: ack timers and the sweeper. They run inside every web process (the
default, `GRIDCMD_DISPATCH_BACKGROUND=1`) or in `gridcmd dispatcher` processes; any number of either is
correct, because every item is claimed atomically (a Redis pop, a row lock) before it is handled."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from command.acks import expire_offer
from command.settings import Settings
from command.sweeper import run_job, sweep_once
from dispatch import timers

log = logging.getLogger("gridcmd.dispatch")


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=max(0.0, seconds))


async def fire_due_timers(sessionmaker: async_sessionmaker[AsyncSession], redis: Redis, settings: Settings) -> int:
    """Pop the due ack timers and time their offers out, each in its own transaction. Returns how many popped."""
    due = await timers.pop_due(redis, limit=100)
    for order_id in due:
        try:
            await run_job(sessionmaker, redis, settings,
                          lambda s, o=order_id: expire_offer(s, redis, order_id=o, settings=settings))
        except Exception:  # the timer is gone; the sweeper re-drives the order from PostgreSQL
            log.exception("ack timeout of order %s failed", order_id)
    return len(due)


async def ack_timer_loop(sessionmaker: async_sessionmaker[AsyncSession], redis: Redis, settings: Settings,
                         stop: asyncio.Event) -> None:
    """Pop due ack timers (each goes to exactly one process) and time the offers out."""
    while not stop.is_set():
        try:
            if await fire_due_timers(sessionmaker, redis, settings):
                continue
            nxt = await timers.next_due_ms(redis)
            wait = settings.ack_poll_interval_s if nxt is None else (nxt / 1000 - time.time())
            await _sleep(stop, min(settings.ack_poll_interval_s, wait))
        except Exception:
            log.exception("ack timer loop")
            await _sleep(stop, 1.0)


async def sweeper_loop(sessionmaker: async_sessionmaker[AsyncSession], redis: Redis, settings: Settings,
                       stop: asyncio.Event) -> None:
    # A random start spreads the sweepers of processes started together.
    await _sleep(stop, random.uniform(0, settings.sweeper_interval_s))
    while not stop.is_set():
        try:
            await sweep_once(sessionmaker, redis, settings)
        except Exception:
            log.exception("sweeper tick failed")
        await _sleep(stop, settings.sweeper_interval_s)


class DispatchBackground:
    """Both loops as tasks of the running event loop."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], redis: Redis, settings: Settings) -> None:
        self._args = (sessionmaker, redis, settings)
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(ack_timer_loop(*self._args, self._stop), name="gridcmd-ack-timers"),
                       asyncio.create_task(sweeper_loop(*self._args, self._stop), name="gridcmd-sweeper")]

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def wait(self) -> None:
        await asyncio.gather(*self._tasks)
