"""The hand-off of committed events to the live stream: after the owner of a transaction commits, the events it
appended (command.core.events.take_pending) are XADDed to the Redis stream every process's hub reads.

web.deps.get_session does it for requests; jobs (sweeper, scheduler, CLI) call `commit_and_publish`. A publish that
never happens (crash, Redis down or flushed) is made good by the relay (command.realtime.relay); docs/realtime.md."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession

from command.core.events import take_pending
from command.core.models import Event
from command.core.outage import OUTAGES
from command.realtime import stream

log = logging.getLogger(__name__)


async def publish_committed(
    redis: Redis, events: Sequence[Event], *, maxlen: int = stream.DEFAULT_MAXLEN
) -> list[str | None]:
    """XADD committed events to the live stream, each at most once (by PostgreSQL id): the new stream ids
    (None for an event already there). Only ever call it after the commit: the stream never shows an event
    PostgreSQL could still roll back."""
    return await stream.publish(redis, events, maxlen=maxlen)


async def publish_quietly(redis: Redis, events: Sequence[Event], *, maxlen: int = stream.DEFAULT_MAXLEN) -> None:
    """publish_committed that never raises: the commit has happened, and the relay re-publishes what fails."""
    if not events:
        return
    try:
        await publish_committed(redis, events, maxlen=maxlen)
    except RedisError as exc:  # Redis down: one line per outage (command.core.outage), not one per request
        if not OUTAGES.note(exc, where="publishing events (the relay will re-publish them)"):
            log.warning("publishing %d events failed (the relay will re-publish them): %s", len(events), exc)


async def commit_and_publish(
    session: AsyncSession, redis: Redis, *, maxlen: int = stream.DEFAULT_MAXLEN
) -> list[Event]:
    """For jobs (sweeper, scheduler, CLI) that own their transaction: commit, then publish what it appended."""
    try:
        await session.commit()
    except BaseException:
        take_pending(session)  # rolled back: these events never happened
        raise
    events = take_pending(session)
    await publish_quietly(redis, events, maxlen=maxlen)
    return events
