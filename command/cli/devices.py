"""`gridcmd bind-device`, `unbind-device`, `list-devices`: GPS app device ids bound to workers
(command.assign.devices; the admin API is /api/v1/admin/devices). Web processes see a change within
GRIDCMD_GPS_DEVICE_CACHE_S."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from command.assign import devices
from command.cli.spec import Arg, Command
from command.core.db import make_engine, make_sessionmaker
from command.core.errors import NotFound
from command.core.settings import Settings
from geo.coords import Crs

T = TypeVar("T")


def in_transaction(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async def run() -> T:
        engine = make_engine(settings, pool_size=1)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _bind(args: argparse.Namespace, settings: Settings) -> int:
    bound = in_transaction(settings, lambda s: devices.bind(s, device_id=args.device_id, worker_id=args.worker_id,
                                                             datum=args.datum, by_user=None))
    print(f"{bound.device_id}: bound to worker {bound.worker_id} ({bound.datum})")
    return 0


def _unbind(args: argparse.Namespace, settings: Settings) -> int:
    try:
        in_transaction(settings, lambda s: devices.unbind(s, device_id=args.device_id))
    except NotFound as exc:
        print(f"error: {exc.message}")
        return 1
    print(f"{args.device_id}: unbound")
    return 0


def _list(args: argparse.Namespace, settings: Settings) -> int:
    for b in in_transaction(settings, lambda s: devices.list_bindings(s, worker_id=args.worker)):
        print(f"{b.device_id}\t{b.worker_id}\t{b.datum}")
    return 0


_DEVICE = Arg("device_id", help="the id the GPS app sends (OsmAnd id, Traccar Client device_id)")
BIND = Command("bind-device", "bind a GPS app's device id to a grid worker (moves it from another worker)", _bind,
               (_DEVICE, Arg("worker_id", type=int),
                Arg("--datum", default=Crs.wgs84.value, choices=[c.value for c in Crs],
                    help="datum of the app's coordinates (GPS apps: wgs84)")))
UNBIND = Command("unbind-device", "remove a GPS device binding", _unbind, (_DEVICE,))
LIST = Command("list-devices", "list GPS device bindings (device, worker, datum)", _list,
               (Arg("--worker", type=int, help="only this worker's"),))
COMMANDS = (BIND, UNBIND, LIST)
