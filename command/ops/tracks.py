"""Worker tracks' storage: a partition of `worker_positions` per local day, made ahead by the scheduler, and
retention (`purge_tracks_before_days`): whole day partitions dropped, rows of the default partition deleted.

A day's partition must exist before its rows arrive: once the default partition holds rows of a day, PostgreSQL
refuses to create that day's partition (the rows would be on the wrong side), so those rows stay in the default
partition, still read and purged the same way."""

from __future__ import annotations

import logging
import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

log = logging.getLogger(__name__)
_NAME = re.compile(r"^worker_positions_p(\d{8})$")


def partition_name(day: date) -> str:
    return f"worker_positions_p{day:%Y%m%d}"


async def ensure_partitions(session: AsyncSession, *, start: date, days: int, tz: str) -> list[str]:
    """Create the day partitions of [start, start + days) that do not exist; returns those created."""
    z = ZoneInfo(tz)
    existing = set(await _partitions(session))
    made = []
    for n in range(days):
        day = start + timedelta(days=n)
        name = partition_name(day)
        if name in existing:
            continue
        lo = datetime.combine(day, time(), z).isoformat()
        hi = datetime.combine(day + timedelta(days=1), time(), z).isoformat()
        try:
            async with session.begin_nested():
                await session.execute(text(
                    f"CREATE TABLE {name} PARTITION OF worker_positions FOR VALUES FROM ('{lo}') TO ('{hi}')"))
            made.append(name)
        except Exception as exc:  # rows of that day already in the default partition: they stay there
            log.warning("track partition %s not created: %s", name, exc)
    return made


async def _partitions(session: AsyncSession) -> list[str]:
    rows = await session.execute(text(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'worker_positions'"))
    return [r[0] for r in rows]


async def purge_tracks_before(session: AsyncSession, *, cutoff: date, tz: str) -> dict[str, int]:
    """Drop the day partitions before `cutoff` (local day) and delete older rows of the default partition."""
    dropped = 0
    for name in await _partitions(session):
        m = _NAME.match(name)
        if m and datetime.strptime(m.group(1), "%Y%m%d").date() < cutoff:
            await session.execute(text(f"DROP TABLE {name}"))
            dropped += 1
    edge = datetime.combine(cutoff, time(), ZoneInfo(tz))
    deleted = await session.scalar(text(
        "WITH gone AS (DELETE FROM worker_positions_default WHERE ts < :edge RETURNING 1) SELECT count(*) FROM gone"),
        {"edge": edge})
    return {"partitions_dropped": dropped, "rows_deleted": int(deleted or 0)}
