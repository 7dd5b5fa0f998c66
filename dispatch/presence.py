"""Workers' live state in Redis: positions (GEO), presence (newest report time), duty, load and max load.

Nothing here is the truth: PostgreSQL is. `rebuild` restores everything but positions from it (positions come
back with the workers' next reports; a last known position may be seeded), and `set_loads` makes the loads
equal to the orders PostgreSQL says each worker holds."""

from __future__ import annotations

import enum
import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.typing import EncodableT

from dispatch import keys
from dispatch.scripts import script


class Duty(enum.StrEnum):
    """What the worker (or an operator) says: taking work, on duty but not taking work, or off duty."""

    available = "available"
    busy = "busy"
    off_duty = "off_duty"


class Availability(enum.StrEnum):
    """What a screen shows: duty combined with load and presence."""

    available = "available"
    assigned = "assigned"
    busy = "busy"
    off_duty = "off_duty"
    away = "away"  # on duty but no position report within the presence ttl


@dataclass(frozen=True, slots=True)
class PositionResult:
    stored: bool       # False: a newer position was already stored
    registered: bool   # False: the worker has no live state yet; register it from PostgreSQL


@dataclass(frozen=True, slots=True)
class WorkerLive:
    worker_id: int
    lon: float | None
    lat: float | None
    seen_at: float | None
    duty: str | None
    load: int
    max_load: int | None
    present: bool

    @property
    def availability(self) -> Availability:
        if self.duty == Duty.off_duty or self.duty is None:
            return Availability.off_duty
        if self.duty == Duty.busy or (self.max_load is not None and self.load >= self.max_load):
            return Availability.busy
        if not self.present:
            return Availability.away
        return Availability.assigned if self.load > 0 else Availability.available


@dataclass(frozen=True, slots=True)
class Warmup:
    """After a rebuild: claims wait until `until` (unix s) or until `need` workers are present (now `present`)."""

    until: float
    present: int
    need: int


@dataclass(frozen=True, slots=True)
class WorkerSeed:
    """What a rebuild needs to know of one worker (from PostgreSQL)."""

    worker_id: int
    max_load: int
    on_duty: bool
    home: tuple[float, float] | None = None


async def report_positions(
    redis: Redis, *, worker_id: int, positions: Sequence[tuple[float, float, float | None]]
) -> PositionResult:
    """Store the newest of a worker's position reports (WGS-84 lon, lat, unix time or None for now).

    Coordinates must already be validated and converted. Presence counts from the report's own time, so a
    batch that arrives late does not make a worker look present when they were not."""
    [result] = await report_many(redis, [(worker_id, *newest(positions))])
    return result


def newest(positions: Sequence[tuple[float, float, float | None]]) -> tuple[float, float, float]:
    """The newest of a worker's reports as (lon, lat, unix time); a time in the future or missing counts as now."""
    if not positions:
        raise ValueError("no positions")
    now = time.time()
    return max(((lo, la, now if t is None else min(t, now)) for lo, la, t in positions), key=lambda p: p[2])


async def report_many(redis: Redis, reports: Sequence[tuple[int, float, float, float]], *,
    space: keys.Space = keys.DEFAULT) -> list[PositionResult]:
    """Store many workers' newest reports (worker id, lon, lat, unix time) in one script call, in order."""
    args: list[EncodableT] = []
    for worker_id, lon, lat, ts in reports:
        args += [worker_id, lon, lat, f"{ts:.3f}"]
    flat = await script(redis, "report")(keys=[space.positions, space.seen, space.max_load], args=args)
    return [PositionResult(stored=bool(flat[i]), registered=bool(flat[i + 1])) for i in range(0, len(flat), 2)]


async def register_worker(redis: Redis, *, worker_id: int, max_load: int, on_duty: bool,
    space: keys.Space = keys.DEFAULT) -> None:
    """Give a worker live state (max load; duty unless already set). Load stays as it is (missing = 0)."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hset(space.max_load, str(worker_id), max_load)
        pipe.hsetnx(space.duty, str(worker_id), Duty.available if on_duty else Duty.off_duty)
        await pipe.execute()


async def set_availability(redis: Redis, *, worker_id: int, duty: Duty | str, space: keys.Space = keys.DEFAULT) -> None:
    await redis.hset(space.duty, str(worker_id), Duty(duty).value)


async def server_id(redis: Redis, *, space: keys.Space = keys.DEFAULT) -> str:
    """The run id of the Redis server holding the space (new at every start, different on every server; on a
    cluster, the master that owns the space's slot)."""
    return str(await script(redis, "run_id")(keys=[space.live_marker]))


async def is_live(redis: Redis, *, space: keys.Space = keys.DEFAULT) -> bool:
    """The live state is complete on this server: the marker is there and names this server's run id.

    A marker written on another server means this one got the state by replication (a promoted replica after a
    failover, docs/failover.md) or from a dump file (a restart): the last writes before the switch may be missing,
    so claims refuse (assign.lua, claim.lua) until a rebuild from PostgreSQL marks it again."""
    return bool(await script(redis, "live")(keys=[space.live_marker]))


async def live_state(redis: Redis, *, worker_ids: Sequence[int], presence_ttl_s: float,
    space: keys.Space = keys.DEFAULT) -> dict[int, WorkerLive]:
    """Live state of the given workers in one round trip."""
    if not worker_ids:
        return {}
    ids = [str(w) for w in worker_ids]
    async with redis.pipeline(transaction=False) as pipe:
        pipe.geopos(space.positions, *ids)
        pipe.zmscore(space.seen, ids)
        pipe.hmget(space.duty, ids)
        pipe.hmget(space.load, ids)
        pipe.hmget(space.max_load, ids)
        positions, seen, duty, load, max_load = await pipe.execute()
    cutoff = time.time() - presence_ttl_s
    out: dict[int, WorkerLive] = {}
    for i, wid in enumerate(worker_ids):
        pos = positions[i]
        out[wid] = WorkerLive(
            worker_id=wid,
            lon=float(pos[0]) if pos else None,
            lat=float(pos[1]) if pos else None,
            seen_at=seen[i],
            duty=duty[i],
            load=int(load[i] or 0),
            max_load=int(max_load[i]) if max_load[i] is not None else None,
            present=seen[i] is not None and seen[i] >= cutoff,
        )
    return out


async def loads(redis: Redis, *, space: keys.Space = keys.DEFAULT) -> dict[int, int]:
    """Every worker's load as Redis holds it (zeros included when stored)."""
    return {int(k): int(v) for k, v in (await redis.hgetall(space.load)).items()}


async def set_loads(redis: Redis, *, loads: Mapping[int, int], space: keys.Space = keys.DEFAULT) -> None:
    """Replace every load by the given counts (missing = 0) and clear pending tokens, in one atomic step.

    Only correct while no transaction that changes loads is in flight: the caller holds the exclusive live
    lock (command.assign.live), so every token still pending belongs to a transaction already finished."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.delete(space.load, space.pending)
        if loads:
            pipe.hset(space.load, mapping={str(k): v for k, v in loads.items()})
        await pipe.execute()


async def rebuild(
    redis: Redis, *, workers: Iterable[WorkerSeed], loads: Mapping[int, int], ack_due_ms: Mapping[int, int],
    presence_ttl_s: float = 120.0, warmup_quorum: float = 0.0, space: keys.Space = keys.DEFAULT,
) -> None:
    """Replace the rebuildable live state in one MULTI/EXEC and mark it live.

    Positions and presence are kept where Redis still has them; a worker without a position gets its home as
    last known position (not presence: only a report says the worker is really there). With a warm-up quorum,
    claims of the nearest workers then wait (warmup.lua) until that share of the on-duty workers is present, at
    most presence_ttl_s: after a flush nobody is present until their phones report again."""
    seeds = list(workers)
    need = math.ceil(warmup_quorum * sum(1 for w in seeds if w.on_duty))
    # Asked before the MULTI: if the master changes in between, the marker names the old one and the next check
    # fails again (one more rebuild), never the reverse.
    marker = await server_id(redis, space=space)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.delete(*space.rebuilt)
        if need > 0:
            pipe.hset(space.warmup, mapping={"until": f"{time.time() + presence_ttl_s:.3f}", "need": need})
        if seeds:
            pipe.hset(space.max_load, mapping={str(w.worker_id): w.max_load for w in seeds})
            pipe.hset(space.duty, mapping={
                str(w.worker_id): (Duty.available if w.on_duty else Duty.off_duty).value for w in seeds})
            homes: list[EncodableT] = []
            for w in seeds:
                if w.home is not None:
                    homes += [w.home[0], w.home[1], str(w.worker_id)]
            if homes:
                pipe.geoadd(space.positions, homes, nx=True)
        if loads:
            pipe.hset(space.load, mapping={str(k): v for k, v in loads.items()})
        if ack_due_ms:
            pipe.zadd(space.ack_timers, {str(k): v for k, v in ack_due_ms.items()})
        pipe.set(space.live_marker, marker)
        await pipe.execute()


async def warming_up(redis: Redis, *, presence_ttl_s: float, space: keys.Space = keys.DEFAULT) -> Warmup | None:
    """The warm-up after a rebuild, if it still lasts (ended: None, and the key is gone)."""
    reply = await script(redis, "warmup")(keys=[space.seen, space.warmup], args=[presence_ttl_s])
    if not reply:
        return None
    return Warmup(until=float(reply[0]), present=int(reply[1]), need=int(reply[2]))


async def expired_pending(redis: Redis, *, space: keys.Space = keys.DEFAULT) -> int:
    """How many pending tokens are past their expiry (a process may have died mid-transaction)."""
    now_ms = int(time.time() * 1000)
    return int(await redis.zcount(space.pending, "-inf", now_ms))
