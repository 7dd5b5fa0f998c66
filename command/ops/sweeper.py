"""The sweeper: re-drives what a crash (or a Redis outage) left half-done. Safe with any number of processes.

Each tick:
  1. live state: missing (Redis flushed or restarted) → rebuild it from PostgreSQL; a pending load change past
     its expiry (a process died between a claim and its commit) → reconcile loads. Both take the exclusive
     live lock (command.assign.live), so two sweepers simply run one after the other, the second finding nothing.
     After a rebuild, nearest-worker claims wait for the workers to report again (the presence warm-up,
     dispatch/scripts/warmup.lua): incidents are held, visibly (`waiting_for_workers`), not dispatched to nobody.
  2. incidents still `reported`/`located` after `sweeper_grace_s` (their dispatch was deferred or their process
     died), or held while the workers were expected back → locate and dispatch them (during the warm-up: mark
     them waiting, once). Rows are taken with FOR UPDATE SKIP LOCKED: one sweeper each.
  3. worker offers past their ack deadline by more than the grace (their Redis timer was lost) → time out and
     offer the next candidate, as the timer would have.
  4. incidents short of workers (`no_worker`, or waiting while already dispatched) → offered to the workers
     available now (command.assign.staffing); nothing is written for those still without anyone.
Every item is its own transaction, committed and its events published before the next."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import TypeVar

from redis.asyncio import Redis
from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from command.assign import staffing
from command.assign.acks import expire_offer
from command.assign.live import hold_live_lock, rebuild_live, reconcile_loads
from command.core import events, logctx
from command.core.attention import WAITING
from command.core.clock import utcnow
from command.core.events import Actor
from command.core.lifecycle import ORDER_OFFERED, IncidentStatus
from command.core.models import Incident, Order
from command.core.settings import Settings
from command.intake.intake import locate_and_dispatch
from command.realtime import publish
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
    restaffed: int = 0
    warming: bool = False  # the presence warm-up after a rebuild still lasts

    def __bool__(self) -> bool:
        return self.rebuilt or bool(self.reconciled or self.incidents or self.offers or self.restaffed)


async def run_job(sessionmaker: async_sessionmaker[AsyncSession], redis: Redis, settings: Settings,
                  fn: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """One transaction: run fn, commit, publish its events (rolled back, events dropped, on any error). A job
    is its own unit of work in the logs: a request id of its own (kept if one is set: a request's job)."""
    with logctx.work(logctx.REQUEST_ID.get()):
        async with sessionmaker() as session:
            try:
                result = await fn(session)
                await publish.commit_and_publish(session, redis, maxlen=settings.event_stream_maxlen)
            except BaseException:
                events.take_pending(session)
                raise
    return result


async def ensure_live(sessionmaker: async_sessionmaker[AsyncSession], redis: Redis, settings: Settings) -> bool:
    """Rebuild the live state if it is missing (startup, after a flush). True if this call rebuilt it."""
    if await presence.is_live(redis):
        return False
    return await run_job(sessionmaker, redis, settings, lambda s: rebuild_live(
        s, redis, only_if_missing=True, lock_timeout_s=settings.live_lock_timeout_s,
        presence_ttl_s=settings.presence_ttl_s, warmup_quorum=settings.presence_warmup_quorum))


async def reconcile_if_leaked(sessionmaker: async_sessionmaker[AsyncSession], redis: Redis,
                              settings: Settings) -> int:
    """Reconcile loads if a pending load change is past its expiry (a process died between a claim and its
    commit). Returns the corrections (1 if it ran and found nothing to correct), 0 if it did not run."""
    if not await presence.expired_pending(redis):
        return 0
    fixed = await run_job(sessionmaker, redis, settings, lambda s: reconcile_loads(
        s, redis, lock_timeout_s=settings.live_lock_timeout_s))
    return len(fixed) or 1


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
    if not report.rebuilt:
        report.reconciled = await reconcile_if_leaked(sessionmaker, redis, settings)
    report.warming = await presence.warming_up(redis, presence_ttl_s=settings.presence_ttl_s) is not None

    cutoff = utcnow() - timedelta(seconds=settings.sweeper_grace_s)
    waiting = Incident.attention_reason.like(f"{WAITING}%")
    if report.warming:  # held ones are marked already; the others get marked (once) by their redrive
        due = and_(Incident.updated_at < cutoff, or_(Incident.attention_reason.is_(None), ~waiting))
    else:  # held incidents were committed as such (no intake still at work on them): no grace
        due = or_(Incident.updated_at < cutoff, waiting)
    async with sessionmaker() as session:
        stuck = list(await session.scalars(
            select(Incident.id).where(Incident.status.in_(_STUCK), due).order_by(Incident.id).limit(BATCH)))
        overdue = list(await session.scalars(
            select(Order.id).where(Order.assignee_kind == "worker", Order.status.in_(_OFFERED),
                                   Order.ack_due_at < cutoff).order_by(Order.ack_due_at).limit(BATCH)))
        short = [] if report.warming else await staffing.short_incidents(session, limit=BATCH)
    for incident_id in stuck:
        if await run_job(sessionmaker, redis, settings,
                         partial(_redrive_incident, redis=redis, settings=settings, incident_id=incident_id)):
            report.incidents += 1
    for order_id in overdue:
        if await run_job(sessionmaker, redis, settings,
                         partial(expire_offer, redis=redis, order_id=order_id, settings=settings)):
            report.offers += 1
    for incident_id in short:
        if await run_job(sessionmaker, redis, settings, partial(
                staffing.restaff, redis=redis, incident_id=incident_id, settings=settings,
                actor=Actor.system("sweeper"))):
            report.restaffed += 1
    if report:
        log.warning("sweeper: %s", report)
    return report
