"""Worker tracks (巡查轨迹): every position report is kept in PostgreSQL (`worker_positions`, partitioned by day),
written off the dispatch path.

A report is appended to this process's in-memory buffer (a list append: the position path gains no I/O and no
await) and a background task (web/track_tasks.py) takes the buffer every `track_flush_interval_s` and writes it
with one COPY. What a process holds unwritten when it dies (at most one interval) is lost: a track is a record
of where someone walked, not an acknowledged alert, and Redis keeps the live position either way. The buffer is
bounded (`MAX_ROWS`): if PostgreSQL stops taking rows, the oldest are dropped and counted, never the process's
memory."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from pgnative.statements import driver

MAX_ROWS = 500_000  # ~ 40 MB of tuples: 20,000 positions/s for 25 s of a stalled database
COLUMNS = ("worker_id", "ts", "lon", "lat")
Row = tuple[int, datetime, float, float]


class TrackBuffer:
    """Rows waiting to be written, oldest first."""

    def __init__(self, max_rows: int = MAX_ROWS) -> None:
        self._rows: deque[Row] = deque(maxlen=max_rows)
        self.dropped = 0
        self.written = 0
        self.enabled = True  # off (settings.track_writes): nothing is kept, the position path does no more

    def add(self, worker_id: int, positions: Sequence[tuple[float, float, float | None]], now: float) -> None:
        """A worker's checked WGS-84 reports (lon, lat, unix time or None for now)."""
        if not self.enabled:
            return
        overflow = len(self._rows) + len(positions) - (self._rows.maxlen or 0)
        if overflow > 0:
            self.dropped += overflow
        for lon, lat, ts in positions:
            self._rows.append((worker_id, datetime.fromtimestamp(now if ts is None else ts, UTC), lon, lat))

    def take(self) -> list[Row]:
        rows = list(self._rows)
        self._rows.clear()
        return rows

    def put_back(self, rows: Sequence[Row]) -> None:
        """Rows a failed write took: before anything added since (the oldest drop first if it is full)."""
        room = (self._rows.maxlen or 0) - len(self._rows)
        keep = list(rows)[-room:] if room > 0 else []
        self.dropped += len(rows) - len(keep)
        self._rows.extendleft(reversed(keep))

    def __len__(self) -> int:
        return len(self._rows)


BUFFER = TrackBuffer()  # this process's; the position path appends, the flush task writes


async def write_rows(session: AsyncSession, rows: Sequence[Row]) -> int:
    """COPY the rows into worker_positions in the session's transaction (the caller commits)."""
    if not rows:
        return 0
    # No wait for the WAL flush at commit: a crash may lose the last interval of track (as it may lose what the
    # buffer holds), and the alerts committing meanwhile do not queue behind this transaction's fsync.
    await session.execute(text("SET LOCAL synchronous_commit TO off"))
    conn = await driver(session)
    if conn is None:  # not asyncpg: a multi-row INSERT does the same, slower
        await session.execute(text("INSERT INTO worker_positions (worker_id, ts, lon, lat) VALUES (:w, :t, :x, :y)"),
                              [{"w": w, "t": t, "x": x, "y": y} for w, t, x, y in rows])
        return len(rows)
    await conn.copy_records_to_table("worker_positions", records=rows, columns=list(COLUMNS))
    return len(rows)
