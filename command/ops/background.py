"""The dispatch background loops: ack timers and the sweeper. They run inside every web process (the
default, `GRIDCMD_DISPATCH_BACKGROUND=1`) or in `gridcmd dispatcher` processes; any number of either is
correct, because every item is claimed atomically (a Redis pop, a row lock) before it is handled."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from functools import partial

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from command.assign.acks import expire_offer
from command.core.outage import OUTAGES, POSTGRES, REDIS
from command.core.settings import Settings
from command.ops.sweeper import reconcile_if_leaked, run_job, sweep_once
from dispatch import presence, timers

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
                          partial(expire_offer, redis=redis, order_id=order_id, settings=settings))
        except Exception as exc:  # the timer is gone; the sweeper re-drives the order from PostgreSQL
            if not OUTAGES.note(exc, where=f"ack timeout of order {order_id}"):
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
            OUTAGES.recovered(REDIS)
            wait = settings.ack_poll_interval_s if nxt is None else (nxt / 1000 - time.time())
            await _sleep(stop, min(settings.ack_poll_interval_s, wait))
        except Exception as exc:  # Redis down: wait and retry (the timers are in Redis; nothing is lost)
            if not OUTAGES.note(exc, where="ack timer loop"):
                log.exception("ack timer loop")
            await _sleep(stop, 1.0)


# Between two ticks, the sweeper looks this often for leaked claims (one ZCOUNT), so that a claim leaked by a
# killed process is reconciled about claim_pending_ttl_s after the claim, not up to a whole tick later, and for
# a missing live state (one EXISTS: Redis flushed or restarted), which starts the next tick at once.
LEAK_CHECK_S = 1.0
# While the presence warm-up after a rebuild lasts, ticks come at least this often: the held incidents are
# dispatched within about a second of the workers being back.
WARMUP_TICK_S = 1.0


async def _between_ticks(sessionmaker: async_sessionmaker[AsyncSession], redis: Redis, settings: Settings,
                         stop: asyncio.Event, seconds: float) -> None:
    loop = asyncio.get_running_loop()
    until = loop.time() + seconds
    while not stop.is_set() and (left := until - loop.time()) > 0:
        await _sleep(stop, min(LEAK_CHECK_S, left))
        if stop.is_set() or loop.time() >= until:
            return
        try:
            if not await presence.is_live(redis):  # flushed or restarted: rebuild now, not at the next tick
                return
            await reconcile_if_leaked(sessionmaker, redis, settings)
        except Exception as exc:  # the tick reports outages and retries; nothing more to do here
            if not OUTAGES.note(exc, where="leaked-claim check"):
                log.exception("leaked-claim check failed")


async def sweeper_loop(sessionmaker: async_sessionmaker[AsyncSession], redis: Redis, settings: Settings,
                       stop: asyncio.Event) -> None:
    # A random start spreads the sweepers of processes started together.
    await _sleep(stop, random.uniform(0, settings.sweeper_interval_s))
    while not stop.is_set():
        interval = settings.sweeper_interval_s
        try:
            report = await sweep_once(sessionmaker, redis, settings)
            OUTAGES.recovered(POSTGRES)
            OUTAGES.recovered(REDIS)
            if report.warming:
                interval = min(interval, WARMUP_TICK_S)
        except Exception as exc:  # PostgreSQL or Redis down: the next tick retries from where things are
            if not OUTAGES.note(exc, where="sweeper"):
                log.exception("sweeper tick failed")
        await _between_ticks(sessionmaker, redis, settings, stop, interval)


class DispatchBackground:
    """Both loops as tasks of the running event loop."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], redis: Redis, settings: Settings) -> None:
        self._args = (sessionmaker, redis, settings)
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(ack_timer_loop(*self._args, self._stop), name="gridcmd-ack-timers"),
                       asyncio.create_task(sweeper_loop(*self._args, self._stop), name="gridcmd-sweeper")]

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def wait(self) -> None:
        await asyncio.gather(*self._tasks)
