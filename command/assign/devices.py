"""GPS app devices bound to grid workers (OsmAnd protocol / Traccar Client, issue 17 item 4).

A GPS app names itself with a device id in every report and nothing else: the id is bound to one worker by an
admin (API, CLI) or by the worker in /m. Reports are resolved to their worker through `DeviceDirectory`, a
per-process cache in front of PostgreSQL: a report costs no database round trip while its device is cached, so the
position path stays a Redis call. A binding changed in this process is seen at once; in other processes within
`gps_device_cache_s` (the cache's lifetime; unknown ids are cached too, so a flood of them does not reach
PostgreSQL)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from cachetools import TTLCache
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from command.core.errors import Conflict, GridcmdError, InvalidInput, NotFound
from command.core.models import GpsDevice, Worker
from geo.coords import CRS_NAMES, Crs

DEVICE_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,64}$")
CACHE_SIZE = 200_000


class UnknownDevice(GridcmdError):
    """A report from a device id bound to no worker: 400, as the Traccar server answers an unknown device."""

    code = "unknown_device"


@dataclass(frozen=True, slots=True)
class Binding:
    device_id: str
    worker_id: int
    datum: str


def check_device_id(device_id: str) -> str:
    if not DEVICE_ID.match(device_id):
        raise InvalidInput("device id must be 1-64 characters of A-Z a-z 0-9 . _ : -",
                           details=[{"field": "device_id"}])
    return device_id


def _datum(datum: str) -> str:
    if datum not in CRS_NAMES:
        raise InvalidInput(f"unknown datum {datum!r}; expected one of {', '.join(c.value for c in Crs)}",
                           details=[{"field": "datum"}])
    return datum


def _out(row: GpsDevice) -> Binding:
    return Binding(device_id=row.device_id, worker_id=row.worker_id, datum=row.datum)


async def bind(session: AsyncSession, *, device_id: str, worker_id: int, datum: str = Crs.wgs84.value,
               by_user: int | None, own_only: bool = False) -> Binding:
    """Bind `device_id` to the worker (an admin moves it from another worker; with `own_only`, a worker binding
    their own phone, a device bound to someone else is a conflict). The caller commits."""
    check_device_id(device_id)
    _datum(datum)
    if await session.get(Worker, worker_id) is None:
        raise NotFound(f"worker {worker_id} not found")
    row = await session.get(GpsDevice, device_id, with_for_update=True)
    if row is not None and row.worker_id != worker_id and own_only:
        raise Conflict("this device id is bound to another worker; ask an administrator")
    if row is None:
        row = GpsDevice(device_id=device_id, worker_id=worker_id, datum=datum, bound_by=by_user)
        session.add(row)
    else:
        row.worker_id, row.datum, row.bound_by = worker_id, datum, by_user
    await session.flush()
    return _out(row)


async def unbind(session: AsyncSession, *, device_id: str, worker_id: int | None = None) -> None:
    """Remove a binding (with `worker_id`: only that worker's). NotFound if there was none."""
    check_device_id(device_id)
    q = delete(GpsDevice).where(GpsDevice.device_id == device_id)
    if worker_id is not None:
        q = q.where(GpsDevice.worker_id == worker_id)
    if (await session.execute(q)).rowcount == 0:  # type: ignore[attr-defined]
        raise NotFound(f"device {device_id!r} is not bound" + (" to you" if worker_id is not None else ""))


async def list_bindings(session: AsyncSession, *, worker_id: int | None = None) -> list[Binding]:
    q = select(GpsDevice).order_by(GpsDevice.device_id)
    if worker_id is not None:
        q = q.where(GpsDevice.worker_id == worker_id)
    return [_out(r) for r in await session.scalars(q)]


class DeviceDirectory:
    """device id → binding, cached in this process for `ttl_s` (see the module's doc)."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], ttl_s: float) -> None:
        self.sessionmaker = sessionmaker
        self._cache: TTLCache[str, Binding | None] = TTLCache(maxsize=CACHE_SIZE, ttl=ttl_s)

    def forget(self, device_id: str) -> None:
        """Drop one id (after this process changed its binding)."""
        self._cache.pop(device_id, None)

    async def resolve(self, device_id: str) -> Binding:
        """The binding of `device_id`; UnknownDevice if it has none."""
        try:
            found = self._cache[device_id]
        except KeyError:
            async with self.sessionmaker() as session:
                row = await session.get(GpsDevice, device_id)
                found = _out(row) if row is not None else None
            self._cache[device_id] = found
        if found is None:
            raise UnknownDevice(f"unknown device {device_id!r}: bind it to a worker first")
        return found
