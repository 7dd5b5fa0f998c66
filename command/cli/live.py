"""`gridcmd rebuild-live` and `gridcmd dispatcher`."""

from __future__ import annotations

import argparse
import asyncio

from command.cli.spec import Command, stop_on_signal
from command.core import txhooks
from command.core.db import make_engine, make_sessionmaker
from command.core.redis_client import make_redis
from command.core.settings import Settings


def _rebuild_live(args: argparse.Namespace, settings: Settings) -> int:
    """Rebuild duty, max loads, loads and ack timers in Redis from PostgreSQL (positions stay or come back
    with the workers' next reports). Safe while the system runs: it waits for in-flight dispatches."""
    from command.assign.live import rebuild_live
    from command.ops.sweeper import run_job

    async def run() -> int:
        engine = make_engine(settings, pool_size=2, max_overflow=0)
        redis = make_redis(settings)
        try:
            await run_job(make_sessionmaker(engine), redis, settings, lambda s: rebuild_live(
                s, redis, only_if_missing=False, lock_timeout_s=settings.live_lock_timeout_s,
                presence_ttl_s=settings.presence_ttl_s, warmup_quorum=settings.presence_warmup_quorum))
            await txhooks.drain()
        finally:
            await redis.aclose()
            await engine.dispose()
        print("live state rebuilt")
        return 0

    return asyncio.run(run())


def _dispatcher(args: argparse.Namespace, settings: Settings) -> int:
    """Run the ack timer and sweeper loops until SIGINT/SIGTERM (for web processes started with
    GRIDCMD_DISPATCH_BACKGROUND=0; any number of dispatchers may run)."""
    from command.ops.background import DispatchBackground
    from command.ops.sweeper import ensure_live

    async def run() -> int:
        engine = make_engine(settings)
        redis = make_redis(settings)
        sessionmaker = make_sessionmaker(engine)
        stop = stop_on_signal()
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


REBUILD_LIVE = Command("rebuild-live", "rebuild Redis live state from PostgreSQL", _rebuild_live)
DISPATCHER = Command("dispatcher", "run the ack timers and the sweeper (when web processes do not)", _dispatcher)
COMMANDS = (REBUILD_LIVE, DISPATCHER)
