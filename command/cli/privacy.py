"""`gridcmd retention run` (the retention job once) and `gridcmd erase-resident --phone …` (a resident's
request): command.ops.retention and command.ops.privacy, docs/operations.md."""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import asdict

from command.cli.spec import Arg, Command
from command.core.settings import Settings


def _retention(args: argparse.Namespace, settings: Settings) -> int:
    from command.core.db import make_engine, make_sessionmaker
    from command.core.redis_client import make_redis
    from command.ops.retention import run_retention

    async def run() -> int:
        engine, redis = make_engine(settings), make_redis(settings)
        try:
            erased = await run_retention(make_sessionmaker(engine), redis, settings)
        finally:
            await redis.aclose()
            await engine.dispose()
        print("erased: " + ", ".join(f"{k} {v}" for k, v in asdict(erased).items()))
        return 0

    return asyncio.run(run())


def _erase(args: argparse.Namespace, settings: Settings) -> int:
    from command.core.db import make_engine, make_sessionmaker
    from command.ops.privacy import erase_resident

    async def run() -> int:
        engine = make_engine(settings)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                erased = await erase_resident(session, settings=settings, phone=args.phone, requested_by=None)
        finally:
            await engine.dispose()
        print("erased: " + ", ".join(f"{k} {v}" for k, v in asdict(erased).items() if k != "positions"))
        return 0

    return asyncio.run(run())


RETENTION = Command("retention", "erase personal data past its retention period (PIPL)", _retention,
                    (Arg("action", choices=["run"]),))
ERASE_RESIDENT = Command("erase-resident", "erase one resident's personal data on request (statistics stay)",
                         _erase, (Arg("--phone", required=True, help="the resident's phone number"),))
COMMANDS = (RETENTION, ERASE_RESIDENT)
