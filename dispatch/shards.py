"""Claims that cross shards: the live state split by district (one `keys.Space` per district, docs/cluster.md).

A worker's live state (position, presence, duty, load, max load) lives in exactly one space, the worker's home
district's, so the claim of one worker is one atomic claim.lua call on the shard that owns that space: no double
booking, however many processes claim at once and whichever shards they searched. A search near a district's border
reads the neighbouring districts' spaces too (search.lua, read only, concurrently, in growing circles as
assign.lua), merges the candidates nearest first (the incident's own grid first, as assign.lua), then claims them
on their owners; a candidate taken meanwhile is refused by claim.lua and the next one is tried. With one space
this is exactly `dispatch.assign.assign_nearest` (one script, one round trip)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from redis.asyncio import Redis

from dispatch import keys
from dispatch.assign import MAX_GEO_LAT, LiveStateMissing, PresenceWarmingUp, assign_nearest, haversine_m, new_token
from dispatch.presence import live_state, warming_up
from dispatch.scripts import script

SCAN_MIN = 16  # the first GEOSEARCH COUNT per space (as assign.lua's); x4 while a circle comes back full
FIRST_RADIUS_M = 250.0  # the first circle (as assign.lua's); x2 up to the radius while too few are eligible


@dataclass(frozen=True, slots=True)
class ShardClaim:
    worker_id: int
    distance_m: float
    space: keys.Space


@dataclass(slots=True)
class ShardedResult:
    """One token for the whole claim: it sits in the pending set of every space where something was claimed."""

    token: str | None
    claims: list[ShardClaim] = field(default_factory=list)

    @property
    def worker_ids(self) -> list[int]:
        return [c.worker_id for c in self.claims]

    def by_space(self) -> dict[keys.Space, list[int]]:
        out: dict[keys.Space, list[int]] = defaultdict(list)
        for c in self.claims:
            out[c.space].append(c.worker_id)
        return dict(out)


async def assign_nearest_across(
    redis: Redis, *, spaces: Sequence[keys.Space], lon: float, lat: float, radius_m: float, need: int,
    presence_ttl_s: float, pending_ttl_s: float, exclude: Iterable[int] = (), preferred: Iterable[int] = (),
) -> ShardedResult:
    """Claim up to `need` eligible workers within the radius over several spaces; spaces[0] is the point's own.

    Raises LiveStateMissing when the own space is not live, PresenceWarmingUp while it warms up. A neighbouring
    space that is not live (being rebuilt) is skipped: its workers cannot be claimed until it is."""
    if not spaces:
        raise ValueError("no space to search")
    if len(spaces) == 1:
        one = await assign_nearest(redis, lon=lon, lat=lat, radius_m=radius_m, need=need,
                                   presence_ttl_s=presence_ttl_s, pending_ttl_s=pending_ttl_s, exclude=exclude,
                                   preferred=preferred, space=spaces[0])
        return ShardedResult(one.token, [ShardClaim(c.worker_id, c.distance_m or 0.0, spaces[0])
                                         for c in one.claims])
    if need <= 0 or abs(lat) > MAX_GEO_LAT:
        return ShardedResult(token=None)
    own = spaces[0]
    live, warm = await asyncio.gather(redis.exists(own.live_marker), warming_up(
        redis, presence_ttl_s=presence_ttl_s, space=own))
    if not live:
        raise LiveStateMissing(f"live dispatch state of {own.tag} is missing (rebuild pending)")
    if warm is not None:
        raise PresenceWarmingUp(warm)
    token = new_token()
    tried = {int(w) for w in exclude}
    got: list[ShardClaim] = []

    async def take(found: list[ShardClaim]) -> None:
        nonlocal got
        found.sort(key=lambda c: c.distance_m)
        while found and len(got) < need:
            batch, found[:] = found[:need - len(got)], found[need - len(got):]
            got += await _claim_on_owners(redis, batch, token, presence_ttl_s, pending_ttl_s)

    favour = [w for w in dict.fromkeys(int(w) for w in preferred) if w not in tried]
    if favour:  # the incident's own grid first (few workers), within the radius, nearest first
        found, judged = await _preferred(redis, spaces, lon, lat, radius_m, favour, presence_ttl_s)
        tried |= judged
        await take(found)
    # Then growing circles, as assign.lua: 250 m, x2 up to the radius; within a circle the COUNT widens (x4) while
    # a space comes back full. A circle's members are exactly the nearest ones, so nearest first holds across spaces.
    r = min(radius_m, FIRST_RADIUS_M)
    while len(got) < need:
        scan = max(SCAN_MIN, need * 8)
        while len(got) < need:
            found, judged, exhausted = await _eligible(redis, spaces, lon, lat, r, scan, tried, presence_ttl_s)
            tried |= judged
            await take(found)
            if exhausted:
                break
            scan *= 4
        if r >= radius_m:
            break
        r = min(radius_m, r * 2)
    return ShardedResult(token=token if got else None, claims=got)


async def _preferred(redis: Redis, spaces: Sequence[keys.Space], lon: float, lat: float, radius_m: float,
                     ids: list[int], presence_ttl_s: float) -> tuple[list[ShardClaim], set[int]]:
    """The preferred workers within the radius that look eligible now, from whichever space holds them."""
    async def one(space: keys.Space) -> list[ShardClaim]:
        pos = await redis.geopos(space.positions, *(str(w) for w in ids))
        near = [(w, d) for w, p in zip(ids, pos, strict=True) if p is not None
                and (d := haversine_m(lon, lat, float(p[0]), float(p[1]))) <= radius_m]
        return await _judge(redis, space, near, presence_ttl_s)

    parts = await asyncio.gather(*(one(s) for s in spaces))
    return [c for part in parts for c in part], set(ids)


async def _judge(redis: Redis, space: keys.Space, hits: list[tuple[int, float]],
                 presence_ttl_s: float) -> list[ShardClaim]:
    if not hits:
        return []
    state = await live_state(redis, worker_ids=[w for w, _ in hits], presence_ttl_s=presence_ttl_s, space=space)
    return [ShardClaim(w, d, space) for w, d in hits if state[w].availability.value in ("available", "assigned")]


async def _eligible(redis: Redis, spaces: Sequence[keys.Space], lon: float, lat: float, radius_m: float,
                    scan: int, tried: set[int], presence_ttl_s: float) -> tuple[list[ShardClaim], set[int], bool]:
    """Untried workers within the radius that are eligible now, from every space (search.lua, read only, one call per
    space, concurrently); the ids returned; and whether every space's circle was searched whole."""
    async def one(space: keys.Space) -> tuple[list[ShardClaim], bool]:
        reply = await script(redis, "search")(
            keys=[space.positions, space.seen, space.duty, space.load, space.max_load],
            args=[lon, lat, radius_m, scan, presence_ttl_s])
        found = [ShardClaim(int(reply[i]), float(reply[i + 1]), space) for i in range(1, len(reply), 2)
                 if int(reply[i]) not in tried]
        return found, int(reply[0]) < scan

    parts = await asyncio.gather(*(one(s) for s in spaces))
    found = [c for part, _ in parts for c in part]
    return found, {c.worker_id for c in found}, all(done for _, done in parts)


async def _claim_on_owners(redis: Redis, batch: list[ShardClaim], token: str, presence_ttl_s: float,
                           pending_ttl_s: float) -> list[ShardClaim]:
    """claim.lua on each owner's shard (concurrently); the ones it refuses (taken meanwhile) are dropped."""
    per: dict[keys.Space, list[ShardClaim]] = defaultdict(list)
    for c in batch:
        per[c.space].append(c)

    async def one(space: keys.Space, cs: list[ShardClaim]) -> list[ShardClaim]:
        reply = await script(redis, "claim")(
            keys=[space.live_marker, space.seen, space.duty, space.load, space.max_load, space.pending],
            args=[presence_ttl_s, token, int(pending_ttl_s * 1000), *(str(c.worker_id) for c in cs)])
        if reply[0] == "nolive":  # rebuilt meanwhile: nothing was claimed there
            return []
        return [c for c, status in zip(cs, reply[1:], strict=True) if status == "claimed"]

    parts = await asyncio.gather(*(one(s, cs) for s, cs in per.items()))
    return [c for part in parts for c in part]


async def release_across(redis: Redis, result: ShardedResult) -> None:
    """Undo a claim whose transaction rolled back: one load off each claimed worker, on each owner, at most once."""
    if result.token is None:
        return
    token = result.token
    await asyncio.gather(*(script(redis, "release")(keys=[s.load, s.pending], args=[token, *map(str, ids)])
                           for s, ids in result.by_space().items()))


async def confirm_across(redis: Redis, result: ShardedResult) -> None:
    """The claim's transaction committed: drop its token from every space it was put in."""
    if result.token is None:
        return
    token = result.token
    await asyncio.gather(*(redis.zrem(s.pending, token) for s in result.by_space()))
