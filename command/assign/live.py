"""Redis live state from PostgreSQL: rebuild it, reconcile loads, and the lock that makes both exact.

Every transaction that changes workers' loads (command.assign.loads) first takes a SHARED advisory lock
(`hold_live_lock`): inside it, a claim raises the load and a release reserves a pending token; after the
commit the claim is confirmed and the release applied, each at most once and only while its token is pending.
A rebuild or reconcile takes the same lock EXCLUSIVELY: it waits until every such transaction has finished
and holds new ones off while it reads PostgreSQL, sets every load to the orders held there and clears the
pending tokens (so no late confirm/release/undo can apply twice). The counts it writes are therefore exact,
whatever crashed or was flushed before. Shared locks do not conflict with each other, so dispatching pays one
cheap statement per transaction; a reconcile pauses it for the few milliseconds it takes."""

from __future__ import annotations

import logging

from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from command.core.lifecycle import ORDER_HOLDING, ORDER_OFFERED
from command.core.txhooks import TX_PREFIX
from dispatch import presence
from pgnative.statements import Native

log = logging.getLogger(__name__)

LIVE_LOCK = 0x6772_6964  # "grid": the advisory lock key of the live state
_HELD = TX_PREFIX + "live_lock"

_HOLDING = [s.value for s in ORDER_HOLDING]
_OFFERED = [s.value for s in ORDER_OFFERED]


# The shared lock as an expression, for a statement that runs anyway to take it (then call `live_lock_taken`).
LIVE_LOCK_SHARED = f"pg_advisory_xact_lock_shared({LIVE_LOCK})"
_HOLD = Native(f"SELECT {LIVE_LOCK_SHARED}")


async def hold_live_lock(session: AsyncSession) -> None:
    """Take the shared live lock for this transaction (once; released at commit/rollback).

    Take it before any row lock, so that a waiting rebuild never sits in a lock cycle. A native statement: it
    does not flush the session (a flush would write, and lock, rows before the lock is held)."""
    if session.info.get(_HELD):
        return
    await _HOLD.fetch(session)
    live_lock_taken(session)


def live_lock_taken(session: AsyncSession) -> None:
    """Record that a statement of this transaction took the shared live lock (`LIVE_LOCK_SHARED`)."""
    session.info[_HELD] = True


async def _lock_exclusive(session: AsyncSession, timeout_s: float) -> None:
    await session.execute(text(f"SET LOCAL lock_timeout = '{int(timeout_s * 1000)}ms'"))
    await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LIVE_LOCK})


async def holding_counts(session: AsyncSession) -> dict[int, int]:
    """Orders each worker holds, by PostgreSQL (the truth the Redis loads must equal)."""
    rows = await session.execute(text(
        "SELECT worker_id, count(*) FROM orders WHERE assignee_kind = 'worker' AND status = ANY(:s) "
        "GROUP BY worker_id"), {"s": _HOLDING})
    return {int(w): int(n) for w, n in rows}


async def rebuild_live(session: AsyncSession, redis: Redis, *, only_if_missing: bool, lock_timeout_s: float,
                       presence_ttl_s: float, warmup_quorum: float) -> bool:
    """Rebuild duty, max loads, loads and ack timers from PostgreSQL and mark the live state present.

    Presence is not PostgreSQL's to give: nearest-worker claims then wait until `warmup_quorum` of the on-duty
    workers are present again, at most presence_ttl_s (dispatch.presence.rebuild, warmup.lua); with presence
    intact (a rebuild on a running system) the wait ends at the first claim.
    With only_if_missing, does nothing if another process rebuilt it first. Returns whether it rebuilt.
    The caller commits (which releases the lock)."""
    await _lock_exclusive(session, lock_timeout_s)
    if only_if_missing and await presence.is_live(redis):
        return False
    seeds = [
        presence.WorkerSeed(worker_id=wid, max_load=max_load, on_duty=on_duty,
                            home=(x, y) if x is not None else None)
        for wid, max_load, on_duty, x, y in await session.execute(text(
            "SELECT id, max_load, on_duty, ST_X(home), ST_Y(home) FROM workers"))
    ]
    timers = {
        int(oid): int(due_ms)
        for oid, due_ms in await session.execute(text(
            "SELECT id, (extract(epoch FROM ack_due_at) * 1000)::bigint FROM orders "
            "WHERE assignee_kind = 'worker' AND status = ANY(:s) AND ack_due_at IS NOT NULL"), {"s": _OFFERED})
    }
    counts = await holding_counts(session)
    await presence.rebuild(redis, workers=seeds, loads=counts, ack_due_ms=timers, presence_ttl_s=presence_ttl_s,
                           warmup_quorum=warmup_quorum)
    log.warning("live state rebuilt: %d workers, %d loaded, %d ack timers", len(seeds), len(counts), len(timers))
    return True


async def reconcile_loads(session: AsyncSession, redis: Redis, *, lock_timeout_s: float) -> dict[int, tuple[int, int]]:
    """Make every Redis load equal PostgreSQL's count and clear pending tokens. Returns the corrections
    {worker: (redis before, truth)}. The caller commits (which releases the lock)."""
    await _lock_exclusive(session, lock_timeout_s)
    counts = await holding_counts(session)
    before = await presence.loads(redis)
    await presence.set_loads(redis, loads=counts)
    fixed = {w: (before.get(w, 0), counts.get(w, 0))
             for w in set(before) | set(counts) if before.get(w, 0) != counts.get(w, 0)}
    if fixed:
        log.warning("reconciled %d worker loads from PostgreSQL: %s", len(fixed), fixed)
    return fixed
