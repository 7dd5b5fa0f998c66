"""The closed loop's background job: adopt deadlines, fire them, plan patrol visits (and, as hourly
housekeeping, forget old Idempotency-Keys, generate published reports (通报)), deliver 12345 reports. Run by
`gridcmd scheduler` (any number of processes) and, if `run_jobs_in_web`, inside each web process. Every step is
its own transaction; its events are published after the commit."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import asdict, dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

import httpx
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from command.core import request_keys
from command.core.clock import utcnow
from command.core.outage import OUTAGES
from command.core.settings import Settings
from command.deadlines import deadlines, patrol, scheduler
from command.intake.channels import outbox
from command.ops import facts, report_jobs, tracks
from command.ops.retention import run_retention
from command.realtime import publish

log = logging.getLogger("gridcmd.jobs")
# Patrol visits are planned a week ahead; doing it hourly is plenty (it is idempotent anyway).
PLAN_EVERY_S = 3600


@dataclass
class TickResult:
    adopted: int = 0
    reminders: int = 0
    overdue: int = 0
    supervision: int = 0
    planned_visits: int = 0
    pruned_keys: int = 0
    delivered: int = 0
    delivery_failures: int = 0
    reports: int = 0


async def _finish(session: AsyncSession, redis: Redis) -> None:
    """Commit, then hand the committed events to the live stream."""
    await publish.commit_and_publish(session, redis)


async def tick(settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], redis: Redis,
               http: httpx.AsyncClient, *, plan_patrol: bool = True) -> TickResult:
    tz = ZoneInfo(settings.timezone)
    result = TickResult()
    async with sessionmaker() as session:
        result.adopted = await deadlines.adopt(session, tz=tz, batch=settings.scheduler_batch)
        await _finish(session, redis)
    while True:  # drain: a backlog after downtime is fired in batches, each committed
        async with sessionmaker() as session:
            fired = await scheduler.fire_due(session, now=utcnow(), batch=settings.scheduler_batch,
                                             escalate_s=settings.supervision_escalate_s)
            await _finish(session, redis)
        result.reminders += fired.reminders
        result.overdue += fired.overdue
        result.supervision += fired.supervision
        if fired.reminders + fired.overdue + fired.supervision + fired.met == 0:
            break
    if plan_patrol:
        async with sessionmaker() as session:
            today = utcnow().astimezone(tz).date()
            result.planned_visits = await patrol.plan_visits(session, start=today, end=today + timedelta(days=7))
            result.pruned_keys = await request_keys.prune_keys(session, older_than=request_keys.KEEP)
            await _finish(session, redis)
        async with sessionmaker() as session, session.begin():
            await tracks.ensure_partitions(session, start=today, days=3, tz=settings.timezone)
            await tracks.purge_tracks_before(
                session, cutoff=today - timedelta(days=settings.purge_tracks_before_days), tz=settings.timezone)
    sent = await outbox.deliver_due(sessionmaker, http, settings, limit=settings.scheduler_batch)
    result.delivered, result.delivery_failures = sent.ok, sent.failed
    if plan_patrol:
        # Published reports (通报) of the periods that have closed, for regions with subscribers; hourly is
        # plenty (each kind's latest period is generated once) and last, so 12345 delivery never waits for it.
        result.reports = len((await report_jobs.run_due(sessionmaker, redis, tz=settings.timezone)).ids)
    return result


async def run(settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], redis: Redis,
              *, once: bool = False, stop: asyncio.Event | None = None) -> None:
    """Tick every `scheduler_interval_s` until `stop` is set (or once)."""
    stop = stop or asyncio.Event()
    last_plan: float = -PLAN_EVERY_S  # monotonic seconds of the last patrol planning
    last_retention: float = -settings.retention_interval_s
    last_facts: float = -settings.daily_facts_interval_s
    async with httpx.AsyncClient() as http:
        while True:
            try:
                plan = time.monotonic() - last_plan >= PLAN_EVERY_S
                result = await tick(settings, sessionmaker, redis, http, plan_patrol=plan)
                if plan:
                    last_plan = time.monotonic()
                if any(asdict(result).values()):
                    log.info("scheduler tick: %s", asdict(result))
                if time.monotonic() - last_retention >= settings.retention_interval_s:
                    last_retention = time.monotonic()
                    erased = await run_retention(sessionmaker, redis, settings)
                    if erased.anything:
                        log.info("retention: %s", asdict(erased))
                if settings.daily_facts_interval_s and time.monotonic() - last_facts >= settings.daily_facts_interval_s:
                    last_facts = time.monotonic()
                    folded = await facts.refresh_pass(sessionmaker, settings)
                    if folded.days:
                        log.info("daily facts: %d days, %d rows", len(folded.days), folded.rows)
            except Exception as exc:  # a failed tick (database restart…) must not end the loop
                if once:
                    raise
                if not OUTAGES.note(exc, where="scheduler"):
                    log.exception("scheduler tick failed")
            if once:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=settings.scheduler_interval_s)
            if stop.is_set():
                return
