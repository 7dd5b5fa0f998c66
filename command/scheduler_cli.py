"""`gridcmd scheduler`: the closed loop's job (deadlines, patrol planning, 12345 reports) until
SIGINT/SIGTERM, or one pass with --once. Any number may run beside the web processes."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal

from command.cli import command
from command.db import make_engine, make_sessionmaker
from command.redis_client import make_redis
from command.settings import Settings


@command("scheduler")
def _scheduler(args: argparse.Namespace, settings: Settings) -> int:
    from command.jobs import run

    if args.interval is not None:
        settings = settings.model_copy(update={"scheduler_interval_s": args.interval})
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(name)s %(message)s")

    async def main() -> int:
        engine = make_engine(settings, pool_size=2, max_overflow=2)
        redis = make_redis(settings)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        print(f"gridcmd scheduler: running (pid {os.getpid()})", flush=True)
        try:
            await run(settings, make_sessionmaker(engine), redis, once=args.once, stop=stop)
        finally:
            await redis.aclose()
            await engine.dispose()
        return 0

    return asyncio.run(main())
