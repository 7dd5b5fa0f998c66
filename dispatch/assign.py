"""Who goes: the nearest eligible workers, claimed atomically (one Lua script, one round trip), and the
matching confirm and release of those load changes.

A claim raises loads inside the caller's PostgreSQL transaction, before its commit, with a token that sits in
the pending set until the caller knows the transaction's fate: `confirm` (committed) or `release` (rolled
back). Ending orders lowers loads only after the commit (`reserve_release`, then `release`). So Redis may
count an order PostgreSQL does not hold yet, never the reverse. A token that outlives its expiry means a
process died in between; the caller's reconcile then resets loads from PostgreSQL. This module knows nothing
of PostgreSQL: it takes the Redis client and plain values."""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from redis.asyncio import Redis

from dispatch import keys
from dispatch.presence import Warmup, WorkerLive, live_state
from dispatch.scripts import script

# Redis GEO stores only latitudes within ±85.05112878 (Web Mercator); nobody can be searched beyond.
MAX_GEO_LAT = 85.05112878


class LiveStateMissing(Exception):
    """The live state is being rebuilt (or Redis was flushed): nothing can be claimed right now."""


class PresenceWarmingUp(Exception):
    """The live state was rebuilt and the workers have not reported since: nearest-worker claims wait."""

    def __init__(self, warmup: Warmup) -> None:
        super().__init__(f"waiting for workers to report after a rebuild: {warmup.present} of {warmup.need} "
                         f"present, at most until {warmup.until:.0f}")
        self.warmup = warmup


@dataclass(frozen=True, slots=True)
class Claim:
    worker_id: int
    distance_m: float | None


@dataclass(slots=True)
class ClaimResult:
    token: str | None
    claims: list[Claim] = field(default_factory=list)

    @property
    def worker_ids(self) -> list[int]:
        return [c.worker_id for c in self.claims]


@dataclass(frozen=True, slots=True)
class Candidate:
    worker_id: int
    distance_m: float
    live: WorkerLive

    @property
    def eligible(self) -> bool:
        return self.live.availability.value in ("available", "assigned")


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance with Redis GEO's earth radius, so it compares with GEOSEARCH distances."""
    r = math.pi / 180
    u = math.sin((lat2 - lat1) * r / 2)
    v = math.sin((lon2 - lon1) * r / 2)
    return 2 * 6372797.560856 * math.asin(math.sqrt(u * u + math.cos(lat1 * r) * math.cos(lat2 * r) * v * v))


async def distance_to(redis: Redis, *, worker_id: int, lon: float, lat: float,
    space: keys.Space = keys.DEFAULT) -> float | None:
    """How far the worker's last known position is from a point (None: no position)."""
    [pos] = await redis.geopos(space.positions, str(worker_id))
    return None if pos is None else haversine_m(float(pos[0]), float(pos[1]), lon, lat)


def new_token() -> str:
    return uuid.uuid4().hex


async def assign_nearest(
    redis: Redis,
    *,
    lon: float,
    lat: float,
    radius_m: float,
    need: int,
    presence_ttl_s: float,
    pending_ttl_s: float,
    exclude: Iterable[int] = (),
    preferred: Iterable[int] = (), space: keys.Space = keys.DEFAULT,
) -> ClaimResult:
    """Claim up to `need` eligible workers within `radius_m`, preferred ones (own grid) first, nearest first.

    Raises LiveStateMissing when the live state is not there, PresenceWarmingUp while the workers are still
    expected back after a rebuild; claims nothing then."""
    if need <= 0 or abs(lat) > MAX_GEO_LAT:
        return ClaimResult(token=None)
    excluded = [str(w) for w in exclude]
    token = new_token()
    reply = await script(redis, "assign")(
        keys=[space.live_marker, space.positions, space.seen, space.duty, space.load, space.max_load, space.pending,
              space.warmup],
        args=[lon, lat, radius_m, need, presence_ttl_s, token, int(pending_ttl_s * 1000), len(excluded),
              *excluded, *(str(w) for w in preferred)],
    )
    if reply[0] == "nolive":
        raise LiveStateMissing("live dispatch state is missing (rebuild pending)")
    if reply[0] == "warming":
        raise PresenceWarmingUp(Warmup(until=float(reply[1]), present=int(reply[2]), need=int(reply[3])))
    claims = [Claim(int(reply[i]), float(reply[i + 1])) for i in range(1, len(reply), 2)]
    return ClaimResult(token=token if claims else None, claims=claims)


async def claim_workers(
    redis: Redis, *, worker_ids: Sequence[int], presence_ttl_s: float, pending_ttl_s: float,
    space: keys.Space = keys.DEFAULT) -> tuple[ClaimResult, dict[int, str]]:
    """Claim the given workers under the same rules; returns what was claimed and each worker's status
    (claimed | unknown | off_duty | busy | away | full)."""
    token = new_token()
    reply = await script(redis, "claim")(
        keys=[space.live_marker, space.seen, space.duty, space.load, space.max_load, space.pending],
        args=[presence_ttl_s, token, int(pending_ttl_s * 1000), *(str(w) for w in worker_ids)],
    )
    if reply[0] == "nolive":
        raise LiveStateMissing("live dispatch state is missing (rebuild pending)")
    statuses = dict(zip(worker_ids, reply[1:], strict=True))
    claims = [Claim(w, None) for w, s in statuses.items() if s == "claimed"]
    return ClaimResult(token=token if claims else None, claims=claims), statuses


async def reserve_release(redis: Redis, *, pending_ttl_s: float, space: keys.Space = keys.DEFAULT) -> str:
    """Before committing the end of some orders: a token in pending, so that a process dying between the
    commit and the release is noticed (the token expires) and the loads reconciled."""
    token = new_token()
    await redis.zadd(space.pending, {token: int((time.time() + pending_ttl_s) * 1000)})
    return token


async def release(redis: Redis, *, token: str, worker_ids: Sequence[int], space: keys.Space = keys.DEFAULT) -> bool:
    """One order's load off each worker if the token is still pending (at most once): after the commit that
    ended their orders, or to undo the claims (token = the claim's) of a transaction that rolled back."""
    reply = await script(redis, "release")(keys=[space.load, space.pending],
                                           args=[token, *(str(w) for w in worker_ids)])
    return bool(reply)


async def confirm(redis: Redis, tokens: Sequence[str], *, space: keys.Space = keys.DEFAULT) -> None:
    """The transactions behind these tokens committed: their load changes stand."""
    if tokens:
        await redis.zrem(space.pending, *tokens)


async def candidates(
    redis: Redis, *, lon: float, lat: float, radius_m: float, limit: int, presence_ttl_s: float,
    space: keys.Space = keys.DEFAULT) -> list[Candidate]:
    """The nearest workers within the radius with their live state (read only: for an operator's choice)."""
    # WITHDIST: each hit is [member, distance] (redis-py types one union for every combination of options).
    hits = cast(list[list[Any]], await redis.geosearch(
        space.positions, longitude=lon, latitude=lat, radius=radius_m, unit="m", sort="ASC", count=limit,
        withdist=True,
    ))
    ids = [int(member) for member, _ in hits]
    live = await live_state(redis, worker_ids=ids, presence_ttl_s=presence_ttl_s, space=space)
    return [Candidate(int(member), float(dist), live[int(member)]) for member, dist in hits]
