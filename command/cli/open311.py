"""`gridcmd open311-client-add`, `open311-clients`, `open311-client-disable` / `-enable`: Open311 client
applications and their api_keys (command.intake.channels.open311_clients) from the command line."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from command.cli.spec import Arg, Command
from command.core.db import make_engine, make_sessionmaker
from command.core.settings import Settings
from command.intake.channels import open311_clients


def _run(settings: Settings, work: Callable[[AsyncSession], Awaitable[str]]) -> int:
    async def run() -> int:
        engine = make_engine(settings, pool_size=1)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                out = await work(session)
        finally:
            await engine.dispose()
        print(out)
        return 0

    return asyncio.run(run())


def _add(args: argparse.Namespace, settings: Settings) -> int:
    async def work(session: AsyncSession) -> str:
        issued = await open311_clients.issue(session, name=args.name, created_by=None,
                                             rate_per_min=args.rate or settings.open311_client_rate_per_min)
        return (f"{issued.client.name}: api_key {issued.api_key} ({issued.client.rate_per_min}/min; "
                "shown once, keep it)")

    return _run(settings, work)


def _list(args: argparse.Namespace, settings: Settings) -> int:
    async def work(session: AsyncSession) -> str:
        rows = await open311_clients.listing(session)
        return "\n".join(f"{c.name}\t{c.key_prefix}…\t{c.rate_per_min}/min\t{'active' if c.active else 'disabled'}"
                         for c in rows) or "no Open311 clients"

    return _run(settings, work)


def _toggle(active: bool) -> Callable[[argparse.Namespace, Settings], int]:
    def handler(args: argparse.Namespace, settings: Settings) -> int:
        async def work(session: AsyncSession) -> str:
            client = await open311_clients.set_active(session, name=args.name, active=active)
            return f"{client.name}: {'enabled' if active else 'disabled'}"

        return _run(settings, work)

    return handler


COMMANDS = (
    Command("open311-client-add", "issue an Open311 client application its api_key (printed once)", _add,
            (Arg("name"), Arg("--rate", type=int, default=None, help="POSTs a minute (default: the setting)"))),
    Command("open311-clients", "list the Open311 client applications", _list),
    Command("open311-client-disable", "refuse an Open311 client's api_key from now on", _toggle(False),
            (Arg("name"),)),
    Command("open311-client-enable", "accept an Open311 client's api_key again", _toggle(True), (Arg("name"),)),
)
