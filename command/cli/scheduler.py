"""`gridcmd scheduler`: the closed loop's job (deadlines, patrol planning, 12345 reports) until
SIGINT/SIGTERM, or one pass with --once. Any number may run beside the web processes."""

from __future__ import annotations

import argparse
import asyncio
import os

from command.cli.spec import Arg, Command, stop_on_signal
from command.core.db import make_engine, make_sessionmaker
from command.core.redis_client import make_redis
from command.core.settings import Settings


def _scheduler(args: argparse.Namespace, settings: Settings) -> int:
    from command.ops.jobs import run
    from command.ops.logs import configure as configure_logging

    if args.interval is not None:
        settings = settings.model_copy(update={"scheduler_interval_s": args.interval})
    configure_logging(settings)

    async def main() -> int:
        engine = make_engine(settings, pool_size=2, max_overflow=2)
        redis = make_redis(settings)
        stop = stop_on_signal()
        print(f"gridcmd scheduler: running (pid {os.getpid()})", flush=True)
        try:
            await run(settings, make_sessionmaker(engine), redis, once=args.once, stop=stop)
        finally:
            await redis.aclose()
            await engine.dispose()
        return 0

    return asyncio.run(main())


SCHEDULER = Command(
    "scheduler", "run the closed-loop job: deadlines, patrol planning, 12345 reports", _scheduler,
    (Arg("--once", action="store_true", help="one pass, then exit"),
     Arg("--interval", type=float, help="seconds between passes (default GRIDCMD_SCHEDULER_INTERVAL_S)")),
)
COMMANDS = (SCHEDULER,)
