"""Workers' loads changed inside a PostgreSQL transaction: claim, release, and their confirm/undo hooks.

Every change here (1) holds the shared live lock (command.live), (2) changes Redis through one dispatch/
script, (3) registers what to do when the transaction ends: confirm the pending token after a commit, undo
the change after a rollback. Services that free a worker (decline, timeout, done, cancel…) call
`release_load`; nothing else touches loads."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from command import txhooks
from command.live import hold_live_lock
from command.settings import Settings
from dispatch import assign
from dispatch.assign import ClaimResult


def _hooks(session: AsyncSession, redis: Redis, *, token: str, delta: int, worker_ids: list[int]) -> None:
    async def confirm() -> None:
        await assign.confirm(redis, [token])

    async def undo() -> None:
        await assign.undo(redis, token=token, delta=delta, worker_ids=worker_ids)

    # The undo is registered at once: a failure between here and the commit must give the load back.
    txhooks.on_rollback(session, undo)
    txhooks.on_commit(session, confirm)


async def claim_nearest(
    session: AsyncSession, redis: Redis, *, settings: Settings, lon: float, lat: float, radius_m: float,
    need: int, exclude: Iterable[int] = (), preferred: Iterable[int] = (),
) -> ClaimResult:
    """Claim up to `need` of the nearest eligible workers (LiveStateMissing / RedisError propagate)."""
    await hold_live_lock(session)
    result = await assign.assign_nearest(
        redis, lon=lon, lat=lat, radius_m=radius_m, need=need, presence_ttl_s=settings.presence_ttl_s,
        pending_ttl_s=settings.claim_pending_ttl_s, exclude=exclude, preferred=preferred,
    )
    if result.token:
        _hooks(session, redis, token=result.token, delta=-1, worker_ids=result.worker_ids)
    return result


async def claim_chosen(session: AsyncSession, redis: Redis, *, settings: Settings, worker_id: int) -> str:
    """Claim one named worker; returns the status (claimed | unknown | off_duty | busy | away | full)."""
    await hold_live_lock(session)
    result, statuses = await assign.claim_workers(
        redis, worker_ids=[worker_id], presence_ttl_s=settings.presence_ttl_s,
        pending_ttl_s=settings.claim_pending_ttl_s,
    )
    if result.token:
        _hooks(session, redis, token=result.token, delta=-1, worker_ids=result.worker_ids)
    return statuses[worker_id]


async def release_load(session: AsyncSession, redis: Redis, *, settings: Settings, worker_ids: Sequence[int]) -> None:
    """One order's load off each worker, in this transaction (undone if it rolls back).

    If the live state is missing nothing changes: the rebuild counts from PostgreSQL after this commits."""
    ids = [w for w in worker_ids if w is not None]
    if not ids:
        return
    await hold_live_lock(session)
    token = await assign.release_workers(redis, worker_ids=ids, pending_ttl_s=settings.claim_pending_ttl_s)
    if token:
        _hooks(session, redis, token=token, delta=+1, worker_ids=ids)
