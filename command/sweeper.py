"""The sweeper: re-drives what a crash (or a Redis outage) left half-done. Safe with any number of processes.

Each tick:
  1. live state: missing (Redis flushed or restarted) → rebuild it from PostgreSQL; a pending load change past
     its expiry (a process died between a claim and its commit) → reconcile loads. Both take the exclusive
     live lock (command.live), so two sweepers simply run one after the other, the second finding nothing.
  2. incidents still `reported`/`located` after `sweeper_grace_s` (their dispatch was deferred or their process
     died) → locate and dispatch them. Rows are taken with FOR UPDATE SKIP LOCKED: one sweeper each.
  3. worker offers past their ack deadline by more than the grace (their Redis timer was lost) → time out and
     offer the next candidate, as the timer would have.
Every item is its own transaction, committed and its events published before the next."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from command import events
from command.acks import expire_offer
from command.events import Actor
from command.intake import locate_and_dispatch
from command.lifecycle import ORDER_OFFERED, IncidentStatus
from command.live import hold_live_lock, rebuild_live, reconcile_loads
from command.models import Incident, Order
from command.moves import utcnow
from command.settings import Settings
from dispatch import presence

log = logging.getLogger("gridcmd.sweeper")
T = TypeVar("T")
BATCH = 200
_STUCK = [IncidentStatus.reported.value, IncidentStatus.located.value]
_OFFERED = [s.value for s in ORDER_OFFERED]


@dataclass
class SweepReport:
    rebuilt: bool = False
    reconciled: int = 0
    incidents: int = 0
    offers: int = 0

    def __bool__(self) -> bool:
        return self.rebuilt or bool(self.reconciled or self.incidents or self.offers)


async def run_job(sessionmaker: async_sessionmaker[AsyncSession], redis: Redis, settings: Settings,
                  fn: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """One transaction: run fn, commit, publish its events (rolled back, events dropped, on any error)."""
    async with sessionmaker() as session:
        try:
            result = await fn(session)
            await events.commit_and_publish(session, redis, maxlen=settings.event_stream_maxlen)
        except BaseException:
            events.take_pending(session)
            raise
    return result


async def ensure_live(sessionmaker: async_sessionmaker[AsyncSession], redis: Redis, settings: Settings) -> bool:
    """Rebuild the live state if it is missing (startup, after a flush). True if this call rebuilt it."""
    if await presence.is_live(redis):
        return False
    return await run_job(sessionmaker, redis, settings, lambda s: rebuild_live(
        s, redis, only_if_missing=True, lock_timeout_s=settings.live_lock_timeout_s))


async def _redrive_incident(session: AsyncSession, redis: Redis, settings: Settings, incident_id: int) -> bool:
    await hold_live_lock(session)
    incident = await session.scalar(
        select(Incident).where(Incident.id == incident_id, Incident.status.in_(_STUCK))
        .with_for_update(skip_locked=True).execution_options(populate_existing=True))
    if incident is None:
        return False  # moved on, or another sweeper has it
    await locate_and_dispatch(session, redis, incident=incident, settings=settings, actor=Actor.system("sweeper"))
    return True


async def sweep_once(sessionmaker: async_sessionmaker[AsyncSession], redis: Redis, settings: Settings) -> SweepReport:
    report = SweepReport()
    report.rebuilt = await ensure_live(sessionmaker, redis, settings)
    if not report.rebuilt and await presence.expired_pending(redis):
        fixed = await run_job(sessionmaker, redis, settings, lambda s: reconcile_loads(
            s, redis, lock_timeout_s=settings.live_lock_timeout_s))
        report.reconciled = len(fixed) or 1  # 1: ran, nothing to correct

    cutoff = utcnow() - timedelta(seconds=settings.sweeper_grace_s)
    async with sessionmaker() as session:
        stuck = list(await session.scalars(
            select(Incident.id).where(Incident.status.in_(_STUCK), Incident.updated_at < cutoff)
            .order_by(Incident.id).limit(BATCH)))
        overdue = list(await session.scalars(
            select(Order.id).where(Order.assignee_kind == "worker", Order.status.in_(_OFFERED),
                                   Order.ack_due_at < cutoff).order_by(Order.ack_due_at).limit(BATCH)))
    for incident_id in stuck:
        if await run_job(sessionmaker, redis, settings,
                         lambda s, i=incident_id: _redrive_incident(s, redis, settings, i)):
            report.incidents += 1
    for order_id in overdue:
        if await run_job(sessionmaker, redis, settings,
                         lambda s, o=order_id: expire_offer(s, redis, order_id=o, settings=settings)):
            report.offers += 1
    if report:
        log.warning("sweeper: %s", report)
    return report
