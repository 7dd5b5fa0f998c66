"""The relay: every committed event reaches the live stream, even if its publisher died or Redis was flushed.

A request publishes its events right after its commit; a process killed between the two, or a Redis that is
down or flushed at that moment, leaves a committed event out of the stream. Each web process runs
`run_relay`, which every `relay_interval_s` re-publishes what is missing (one process at a time, by a lock
that only saves work: a pass is idempotent).

The rule (event ids are handed out at INSERT but become visible at COMMIT, so "id > last published id" would
skip an event whose long transaction commits after a newer one):
- every event row carries `txid`, the id of the transaction that wrote it;
- a pass reads, in ONE repeatable-read snapshot, its xmin (every transaction with a smaller id has ended:
  its events are visible now or never will be) and every event with txid >= the watermark W stored in
  Redis; it publishes those not in the published index (stream_publish.lua checks again, atomically), then
  moves W to xmin. Nothing below the new W can appear later; everything at or above it is scanned again.
- without a watermark (first start, or Redis flushed) a pass scans the events written in the last
  `relay_rebuild_window_s` plus every transaction still open, and the stream starts again with an epoch
  entry that tells resuming clients to refetch.
A transaction held open for long keeps W behind it, so passes rescan events newer than it until it ends
(idle_in_transaction_session_timeout bounds that)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from redis.asyncio import Redis
from sqlalchemy import ColumnElement, Select, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from command.core.models import Event
from command.core.outage import OUTAGES, POSTGRES, REDIS
from command.core.settings import Settings
from command.realtime import stream
from dispatch import keys

log = logging.getLogger(__name__)

_BATCH = 1000
REBUILD_MAX_EVENTS = 50_000  # bounds the id range a rebuild scans (and what a hub remembers, web/hub.py)


@dataclass(frozen=True, slots=True)
class RelayPass:
    scanned: int
    published: int
    watermark: int
    rebuilt: bool  # there was no watermark (first start or Redis flushed)


def scan_ids(condition: ColumnElement[bool], after: int) -> Select[int]:
    """The next batch of event ids to check. Ordered by `id + 0`, not `id`: ordering by the primary key lets the
    planner walk pk_events from the start and filter on txid, which reads every event ever written on every pass
    (32 ms a pass at 49,000 events, growing with the table) whenever the statistics overestimate how many events
    are recent, as they do while alerts pour in. The expression leaves ix_events_txid as the only way in."""
    return select(Event.id).where(condition, Event.id > after).order_by(Event.id + 0).limit(_BATCH)


async def relay_once(
    session: AsyncSession, redis: Redis, *, maxlen: int = stream.DEFAULT_MAXLEN, rebuild_window_s: int = 120
) -> RelayPass:
    """One pass. `session` must be in a fresh REPEATABLE READ transaction (see run_relay): the xmin and the
    scan have to come from the same snapshot. Never commits."""
    stored = await redis.get(keys.WATERMARK)
    xmin = int(await session.scalar(text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")))
    if stored is not None:
        condition = Event.txid >= int(stored)
    else:
        newest = await session.scalar(select(Event.id).order_by(Event.id.desc()).limit(1)) or 0
        condition = (Event.txid >= xmin) | (
            (Event.id > newest - REBUILD_MAX_EVENTS)
            & (Event.created_at >= func.now() - timedelta(seconds=rebuild_window_s))
        )
    scanned = published = 0
    after = 0
    while True:
        # Ids only: nearly every event is already in the stream, and loading each row (its payload above all) on
        # every pass cost the busiest process more than the requests' own event writes. Only the missing are
        # loaded, in the same snapshot.
        ids = list(await session.scalars(scan_ids(condition, after)))
        if not ids:
            break
        after = ids[-1]
        scanned += len(ids)
        known = await redis.zmscore(keys.PUBLISHED, [str(i) for i in ids])
        missing_ids = [i for i, score in zip(ids, known, strict=True) if score is None]
        if missing_ids:
            missing = list(await session.scalars(
                select(Event).where(Event.id.in_(missing_ids)).order_by(Event.id)))
            published += sum(1 for r in await stream.publish(redis, missing, maxlen=maxlen) if r)
        if len(ids) < _BATCH:
            break
    await stream.advance_watermark(redis, xmin)
    return RelayPass(scanned=scanned, published=published, watermark=xmin, rebuilt=stored is None)


async def relay_pass(sessionmaker: async_sessionmaker[AsyncSession], redis: Redis, settings: Settings) -> RelayPass:
    """One pass in its own read-only REPEATABLE READ transaction."""
    async with sessionmaker() as session:
        await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        try:
            return await relay_once(session, redis, maxlen=settings.event_stream_maxlen,
                                    rebuild_window_s=settings.relay_rebuild_window_s)
        finally:
            await session.rollback()


async def run_relay(
    sessionmaker: async_sessionmaker[AsyncSession], redis: Redis, settings: Settings, stop: asyncio.Event
) -> None:
    """Until `stop` is set: a pass every relay_interval_s, skipped while another process holds the lock.

    Stopping is by the event (the caller may also cancel): a cancellation that lands inside the Redis or
    database client can come back as a connection error, which must not keep the loop alive."""
    token = secrets.token_hex(8)
    lock_ms = max(1000, int(settings.relay_interval_s * 1000))
    while not stop.is_set():
        try:
            if await redis.set(keys.RELAY_LOCK, token, nx=True, px=lock_ms):
                result = await relay_pass(sessionmaker, redis, settings)
                OUTAGES.recovered(POSTGRES)
                if result.published:
                    log.warning("relay re-published %d committed events the stream lacked (rebuilt=%s)",
                                result.published, result.rebuilt)
            OUTAGES.recovered(REDIS)
        except Exception as exc:  # PostgreSQL or Redis away: the next pass catches up (passes are idempotent)
            if stop.is_set():
                break
            if not OUTAGES.note(exc, where="relay"):
                log.exception("relay pass failed, retrying")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), settings.relay_interval_s)
