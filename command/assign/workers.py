"""Grid workers' side of dispatch: position reports, duty status, their orders, and the live list screens show.

Positions and duty go straight to Redis (dispatch.presence); a worker Redis does not know yet (new, or after
a rebuild) is registered from PostgreSQL on their first report."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import ColumnElement, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from command.assign import tracks
from command.core import txhooks
from command.core.errors import Forbidden, InvalidInput, NotFound
from command.core.lifecycle import ORDER_HOLDING
from command.core.models import Incident, Order, Worker
from command.core.routing import codes
from command.core.scoping import unrestricted
from command.core.security import Principal
from command.core.settings import Settings
from command.core.summaries import incident_summary, iso, order_summary
from command.core.telemetry import POSITION_REPORTS
from dispatch import presence
from dispatch.assign import candidates as nearby
from dispatch.position_batch import batcher_for
from dispatch.presence import Duty, PositionResult
from geo.coords import CRS_NAMES, Crs, to_wgs84
from geo.models import Region

MAX_BATCH = 500
CLOCK_SKEW_S = 60  # a phone's clock may run this far ahead


@dataclass(frozen=True, slots=True)
class PositionIn:
    lon: float
    lat: float
    crs: str = Crs.wgs84.value
    ts: datetime | None = None


def mask_name(name: str) -> str:
    """张* / 王*明 / 欧阳**华: the surname (and a last character) stay, the rest is hidden (PIPL)."""
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def _worker_id(principal: Principal) -> int:
    if principal.role != "worker":
        raise Forbidden("only grid workers report positions and duty")
    if principal.worker_id is None:
        raise Forbidden("this account has no grid worker record")
    return principal.worker_id


def _checked(positions: Sequence[PositionIn], now: float) -> list[tuple[float, float, float | None]]:
    if not positions:
        raise InvalidInput("no positions given")
    if len(positions) > MAX_BATCH:
        raise InvalidInput(f"at most {MAX_BATCH} positions per batch")
    out = []
    for i, p in enumerate(positions):
        if not (math.isfinite(p.lon) and math.isfinite(p.lat) and -180 <= p.lon <= 180
                and -85.05112878 <= p.lat <= 85.05112878):
            raise InvalidInput(f"position {i}: coordinates out of range (lon {p.lon}, lat {p.lat})",
                               details=[{"index": i, "field": "lon/lat"}])
        if p.crs not in CRS_NAMES:
            raise InvalidInput(f"position {i}: unknown crs {p.crs!r}", details=[{"index": i, "field": "crs"}])
        # The zone is checked before the time is read: a time without one would be read as this machine's local
        # time, and some (year 1) cannot be.
        ts = p.ts.timestamp() if p.ts is not None and p.ts.tzinfo is not None else None
        if p.ts is not None and (ts is None or ts > now + CLOCK_SKEW_S):
            raise InvalidInput(f"position {i}: ts must be a time with a timezone, not in the future",
                               details=[{"index": i, "field": "ts"}])
        lon, lat = to_wgs84(p.lon, p.lat, p.crs)
        out.append((lon, lat, ts))
    return out


async def register_from_db(sessionmaker: async_sessionmaker[AsyncSession], redis: Redis, worker_id: int) -> None:
    async with sessionmaker() as session:
        worker = await session.get(Worker, worker_id)
    if worker is None:
        raise NotFound(f"worker {worker_id} not found")
    await presence.register_worker(redis, worker_id=worker.id, max_load=worker.max_load, on_duty=worker.on_duty)


async def report_position(sessionmaker: async_sessionmaker[AsyncSession], redis: Redis, *, principal: Principal,
                          positions: Sequence[PositionIn], now: float) -> bool:
    """Validate, convert and store a worker's report (one or a batch). Returns whether it was stored (False:
    a newer position is already there). Needs no database round trip unless the worker is new to Redis."""
    result = await submit_position(redis, principal=principal, positions=positions, now=now)
    if not result.registered:
        await register_from_db(sessionmaker, redis, _worker_id(principal))
    return result.stored


def submit_position(redis: Redis, *, principal: Principal, positions: Sequence[PositionIn],
                    now: float) -> asyncio.Future[PositionResult]:
    """`report_position` up to Redis: validate and convert now (InvalidInput / Forbidden raised here, nothing
    sent), hand the newest report to this process's batcher (one Redis call per batch) and return without
    waiting. The caller registers the worker from PostgreSQL when the result says Redis did not know them."""
    return submit_worker_position(redis, worker_id=_worker_id(principal), positions=positions, now=now)


def submit_worker_position(redis: Redis, *, worker_id: int, positions: Sequence[PositionIn],
                           now: float) -> asyncio.Future[PositionResult]:
    """`submit_position` for a worker already identified otherwise (a GPS app's bound device id,
    command.intake.channels.osmand): the same checks, conversion, track buffer and batcher."""
    checked = _checked(positions, now)
    tracks.BUFFER.add(worker_id, checked, now)  # every report kept, written later off this path (assign.tracks)
    lon, lat, ts = presence.newest(checked)
    POSITION_REPORTS.inc()
    return batcher_for(redis).submit(worker_id=worker_id, lon=lon, lat=lat, ts=ts)


async def set_duty(session: AsyncSession, redis: Redis, *, principal: Principal, duty: str) -> str:
    """on duty and taking work (available), on duty but busy, or off duty: PostgreSQL keeps on/off duty,
    Redis the live state (set once the transaction commits)."""
    worker_id = _worker_id(principal)
    try:
        state = Duty(duty)
    except ValueError as exc:
        raise InvalidInput(f"unknown status {duty!r}; expected one of {', '.join(Duty)}") from exc
    worker = await session.get(Worker, worker_id, with_for_update=True)
    if worker is None:
        raise NotFound(f"worker {worker_id} not found")
    worker.on_duty = state != Duty.off_duty
    max_load = worker.max_load

    async def apply() -> None:
        await presence.register_worker(redis, worker_id=worker_id, max_load=max_load, on_duty=True)
        await presence.set_availability(redis, worker_id=worker_id, duty=state)

    txhooks.on_commit(session, apply)
    return state.value


async def my_orders(session: AsyncSession, *, principal: Principal, open_only: bool) -> list[dict[str, Any]]:
    worker_id = _worker_id(principal)
    q = select(Order, Incident).join(Incident, Incident.id == Order.incident_id).where(Order.worker_id == worker_id)
    if open_only:
        q = q.where(Order.status.in_([s.value for s in ORDER_HOLDING]))
    rows = await session.execute(q.order_by(Order.id.desc()).limit(200))
    return [{**order_summary(o), "incident": incident_summary(i)} for o, i in rows]


def _scope_workers(principal: Principal, region: str | None) -> list[ColumnElement[bool]]:
    scope = [c for c in (None if unrestricted(principal) else principal.region_code, region) if c]
    return [exists().where(Region.code == func.any(Worker.grid_codes), Region.path.op("@>")(codes([c])))
            for c in scope]


async def list_live_workers(session: AsyncSession, redis: Redis, *, principal: Principal, region: str | None,
                            settings: Settings, limit: int = 2000) -> list[dict[str, Any]]:
    """Workers serving grids in the caller's region (and `region`, if given), with their live state."""
    rows = list(await session.scalars(
        select(Worker).where(*_scope_workers(principal, region)).order_by(Worker.id).limit(limit)))
    live = await presence.live_state(redis, worker_ids=[w.id for w in rows], presence_ttl_s=settings.presence_ttl_s)
    out = []
    for w in rows:
        s = live[w.id]
        out.append({"id": w.id, "name": mask_name(w.name), "kind": w.kind, "grid_codes": list(w.grid_codes or []),
                    "lon": s.lon, "lat": s.lat, "availability": s.availability.value, "present": s.present,
                    "load": s.load, "max_load": s.max_load if s.max_load is not None else w.max_load,
                    "seen_at": iso(datetime.fromtimestamp(s.seen_at).astimezone()) if s.seen_at else None})
    return out


async def incident_candidates(session: AsyncSession, redis: Redis, *, incident: Incident, radius_m: float,
                              limit: int, settings: Settings) -> list[dict[str, Any]]:
    """The nearest workers around an incident with distance and whether they could be claimed now."""
    found = await nearby(redis, lon=incident.lon, lat=incident.lat, radius_m=radius_m, limit=limit,
                         presence_ttl_s=settings.presence_ttl_s)
    workers = {w.id: w for w in await session.scalars(select(Worker).where(Worker.id.in_([c.worker_id
                                                                                         for c in found])))}
    already = set(await session.scalars(select(Order.worker_id).where(
        Order.incident_id == incident.id, Order.status.in_([s.value for s in ORDER_HOLDING]))))
    path = set(incident.region_path or [])
    out = []
    for c in found:
        w = workers.get(c.worker_id)
        if w is None:
            continue
        out.append({"worker_id": w.id, "name": mask_name(w.name), "distance_m": round(c.distance_m, 1),
                    "availability": c.live.availability.value, "present": c.live.present, "load": c.live.load,
                    "max_load": c.live.max_load, "own_grid": bool(path & set(w.grid_codes or [])),
                    "holds_this_incident": w.id in already, "eligible": c.eligible and w.id not in already})
    return out
