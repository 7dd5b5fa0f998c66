"""The retention job (PIPL): what is past its retention period is erased, each kind by its own setting.

- reporter name and phone: of incidents finished (closed, cancelled, merged) more than retain_reporter_days
  ago, erased with their traces in the texts (command.ops.privacy.scrub_incidents);
- photos: files older than retain_photos_days deleted (rows marked);
- tracks: the only positions kept are each worker's last one in Redis; a last position older than
  retain_tracks_days (a worker who left) is removed.
Run by the scheduler every retention_interval_s and by `gridcmd retention run`; each batch is its own
transaction, and a run records what it erased in `erasures`."""

from __future__ import annotations

import time
from datetime import timedelta

from redis.asyncio import Redis
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from command.core.clock import utcnow
from command.core.models import Erasure, Incident, Upload
from command.core.models.incidents import REPORTER_PENDING_SQL
from command.core.settings import Settings
from command.ops.privacy import Erased, delete_photos, scrub_incidents
from dispatch import keys

BATCH = 500
FINISHED = ("closed", "cancelled", "merged")


async def _reporters(session: AsyncSession, settings: Settings) -> Erased:
    cutoff = utcnow() - timedelta(days=settings.retain_reporter_days)
    ids = list(await session.scalars(
        select(Incident.id).where(text(REPORTER_PENDING_SQL), Incident.status.in_(FINISHED),
                                  Incident.updated_at < cutoff)
        .order_by(Incident.updated_at).limit(BATCH).with_for_update(skip_locked=True)))
    return await scrub_incidents(session, ids)


async def _photos(session: AsyncSession, settings: Settings) -> Erased:
    cutoff = utcnow() - timedelta(days=settings.retain_photos_days)
    uploads = list(await session.scalars(
        select(Upload).where(Upload.erased_at.is_(None), Upload.created_at < cutoff).limit(BATCH)
        .with_for_update(skip_locked=True)))
    return Erased(photos=await delete_photos(session, uploads, upload_dir=settings.upload_dir))


async def prune_positions(redis: Redis, settings: Settings) -> int:
    """Remove last positions older than retain_tracks_days from Redis (positions GEO set and seen times)."""
    cutoff = time.time() - settings.retain_tracks_days * 86400
    stale = await redis.zrangebyscore(keys.SEEN, "-inf", cutoff)
    if not stale:
        return 0
    async with redis.pipeline(transaction=True) as pipe:
        pipe.zrem(keys.POSITIONS, *stale)
        pipe.zrem(keys.SEEN, *stale)
        await pipe.execute()
    return len(stale)


async def run_retention(sessionmaker: async_sessionmaker[AsyncSession], redis: Redis, settings: Settings) -> Erased:
    """One full pass (batches until nothing is left); returns what was erased."""
    total = Erased()
    for step in (_reporters, _photos):
        while True:
            async with sessionmaker() as session, session.begin():
                done = await step(session, settings)
            total.add(done)
            if not done.anything:
                break
    total.positions = await prune_positions(redis, settings)
    if total.anything:
        async with sessionmaker() as session, session.begin():
            session.add(Erasure(kind="retention", incidents=total.incidents, events=total.events,
                                photos=total.photos, positions=total.positions))
    return total
