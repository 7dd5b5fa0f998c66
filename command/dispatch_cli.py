"""`gridcmd rebuild-live` and `gridcmd dispatcher`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

from command import txhooks
from command.cli import command
from command.db import make_engine, make_sessionmaker
from command.redis_client import make_redis
from command.settings import Settings


@command("rebuild-live")
def _rebuild_live(args: argparse.Namespace, settings: Settings) -> int:
    """Rebuild duty, max loads, loads and ack timers in Redis from PostgreSQL (positions stay or come back
    with the workers' next reports). Safe while the system runs: it waits for in-flight dispatches."""
    from command.live import rebuild_live
    from command.sweeper import run_job

    async def run() -> int:
        engine = make_engine(settings, pool_size=2, max_overflow=0)
        redis = make_redis(settings)
        try:
            await run_job(make_sessionmaker(engine), redis, settings, lambda s: rebuild_live(
                s, redis, only_if_missing=False, lock_timeout_s=settings.live_lock_timeout_s))
            await txhooks.drain()
        finally:
            await redis.aclose()
            await engine.dispose()
        print("live state rebuilt")
        return 0

    return asyncio.run(run())


@command("dispatcher")
def _dispatcher(args: argparse.Namespace, settings: Settings) -> int:
    """Run the ack timer and sweeper loops until SIGINT/SIGTERM (for web processes started with
    GRIDCMD_DISPATCH_BACKGROUND=0; any number of dispatchers may run)."""
    from command.background import DispatchBackground
    from command.sweeper import ensure_live

    async def run() -> int:
        engine = make_engine(settings)
        redis = make_redis(settings)
        sessionmaker = make_sessionmaker(engine)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        background = DispatchBackground(sessionmaker, redis, settings)
        try:
            await ensure_live(sessionmaker, redis, settings)
            background.start()
            print("dispatcher running (ack timers, sweeper)", flush=True)
            await stop.wait()
        finally:
            await background.stop()
            await txhooks.drain()
            await redis.aclose()
            await engine.dispose()
        return 0

    return asyncio.run(run())
