"""Workers' loads, kept in step with the orders a PostgreSQL transaction creates or ends.

The rule that makes double booking impossible: Redis may count an order PostgreSQL does not hold yet, never
the reverse. So
  * a claim raises the load inside the transaction, before its commit (confirmed after the commit, given
    back if the transaction rolls back);
  * ending orders (decline, timeout, done, cancel…) lowers the load only after the commit; before it, a token
    is reserved in pending so that a process dying in between is noticed and loads reconciled.
Both hold the shared live lock (command.assign.live) for the transaction, which is what makes a reconcile exact.
Services that free a worker call `release_load`; nothing else touches loads."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from command.assign.live import hold_live_lock
from command.core import txhooks
from command.core.settings import Settings
from dispatch import assign
from dispatch.assign import ClaimResult


def _settle_on_end(session: AsyncSession, redis: Redis, *, token: str, worker_ids: list[int],
                   release_after_commit: bool) -> None:
    """After the commit: release (ended orders) or just confirm (claims). After a rollback: give claims back,
    or drop the reserved token (nothing was released)."""
    async def committed() -> None:
        if release_after_commit:
            await assign.release(redis, token=token, worker_ids=worker_ids)
        else:
            await assign.confirm(redis, [token])

    async def rolled_back() -> None:
        if release_after_commit:
            await assign.confirm(redis, [token])
        else:
            await assign.release(redis, token=token, worker_ids=worker_ids)

    # Registered at once: a failure between here and the commit must give a claim back.
    txhooks.on_rollback(session, rolled_back)
    txhooks.on_commit(session, committed)


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
        _settle_on_end(session, redis, token=result.token, worker_ids=result.worker_ids, release_after_commit=False)
    return result


async def claim_chosen(session: AsyncSession, redis: Redis, *, settings: Settings, worker_id: int) -> str:
    """Claim one named worker; returns the status (claimed | unknown | off_duty | busy | away | full)."""
    await hold_live_lock(session)
    result, statuses = await assign.claim_workers(
        redis, worker_ids=[worker_id], presence_ttl_s=settings.presence_ttl_s,
        pending_ttl_s=settings.claim_pending_ttl_s,
    )
    if result.token:
        _settle_on_end(session, redis, token=result.token, worker_ids=result.worker_ids, release_after_commit=False)
    return statuses[worker_id]


async def release_load(session: AsyncSession, redis: Redis, *, settings: Settings, worker_ids: Sequence[int]) -> None:
    """One order's load off each worker once this transaction (which ends their orders) has committed."""
    ids = [w for w in worker_ids if w is not None]
    if not ids:
        return
    await hold_live_lock(session)
    token = await assign.reserve_release(redis, pending_ttl_s=settings.claim_pending_ttl_s)
    _settle_on_end(session, redis, token=token, worker_ids=ids, release_after_commit=True)
