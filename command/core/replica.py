"""The read replica: a second engine on a streaming replica (DATABASE_READ_URL), and each process's verdict on
whether reads may go there now (docs/replica.md).

The verdict is measured at most every `read_replica_check_s` by a check that runs beside the requests, never in
them: a request only reads the last verdict (`usable()`), and one that finds it stale starts the next check.

The lag rule. The primary's flushed WAL position (`pg_current_wal_flush_lsn()`: what a replica can have; a
commit is visible only once flushed, unless synchronous_commit is off) is read first, then the replica's
replayed position and the age of its last replayed commit (`now() - pg_last_xact_replay_timestamp()`):

* replayed ≥ the primary's position: lag 0 — the replica holds everything committed before the check began;
* behind: the smaller of two upper bounds — the age of the last replayed commit (anything not yet replayed was
  committed after it), and the age of the latest earlier check whose primary position the replica has passed (it
  then held everything the primary had at that check). The first alone over-reports on an idle primary (its last
  commit may be an hour old while the few bytes in flight are a checkpoint record); the second bounds that by the
  check period. Both are measured, never guessed low.
* not in recovery (promoted, or not a replica at all), or nothing replayed since it started while behind:
  not usable.

A replica that does not answer (refused, or no answer within `read_replica_connect_timeout_s`) is not tried
again for `read_replica_backoff_s`: reads go to the primary meanwhile."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from command.core.db import make_engine, make_sessionmaker
from command.core.settings import Settings, to_driver_url

log = logging.getLogger("gridcmd.replica")

READ_ONLY = text("SET TRANSACTION READ ONLY")
_CHECK = ("SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text, "
          "extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8")


def _plain(url: str) -> str:
    """A URL asyncpg itself reads (no SQLAlchemy driver name)."""
    return to_driver_url(url, "asyncpg").replace("postgresql+asyncpg://", "postgresql://", 1)


def _lsn(text_lsn: str) -> int:
    """'16/B374D848' → a byte position."""
    high, low = text_lsn.split("/")
    return (int(high, 16) << 32) + int(low, 16)


@dataclass(frozen=True)
class Verdict:
    usable: bool
    lag_s: float | None  # None: not measured (unreachable, or not a replica)
    reason: str


class ReadReplica:
    """One process's replica: its engine and sessions, and whether to read from it now."""

    def __init__(self, settings: Settings) -> None:
        self.max_lag_s = settings.read_replica_max_lag_s
        self.check_s = settings.read_replica_check_s
        self.timeout_s = settings.read_replica_connect_timeout_s
        self.backoff_s = settings.read_replica_backoff_s
        self.engine = make_engine(settings, url=settings.async_database_read_url,
                                  connect_timeout_s=self.timeout_s, read_only=True)
        self.sessionmaker: async_sessionmaker[AsyncSession] = make_sessionmaker(self.engine)
        self._dsn = _plain(settings.database_read_url)
        self._primary_dsn = _plain(settings.database_url)
        self._conn: asyncpg.Connection | None = None  # the checks' own connections, outside the pools
        self._primary_conn: asyncpg.Connection | None = None
        self._task: asyncio.Task[Verdict] | None = None
        self.verdict = Verdict(False, None, "not checked yet")
        self._checked_at = -math.inf  # monotonic time of the verdict
        self._marks: deque[tuple[float, int]] = deque(maxlen=64)  # (when, the primary's flushed position)
        self._down_until = -math.inf

    def usable(self) -> bool:
        """Whether this request reads from the replica; never waits (a stale verdict starts a check)."""
        now = time.monotonic()
        if now < self._down_until:
            return False
        if now - self._checked_at >= self.check_s and self._task is None:
            self._task = asyncio.create_task(self.check(), name="replica-check")
            self._task.add_done_callback(self._checked)
        # A verdict older than one period and a check's longest wait is no verdict (the check is stuck).
        return self.verdict.usable and now - self._checked_at < self.check_s + self.timeout_s

    async def session(self) -> AsyncSession | None:
        """A read-only session on the replica when the verdict allows, its connection proven to answer within
        the connect timeout; else None (and the back-off when it did not answer)."""
        if not self.usable():
            return None
        session = self.sessionmaker()
        driver: Any = None
        try:
            # Opening a connection is bounded by the engine (connect and pool timeouts = the connect timeout).
            raw = await (await session.connection()).get_raw_connection()
            driver = raw.driver_connection
            # One round trip proves the connection answers (a pooled one to a frozen server hangs). Not cancelled
            # by a timeout: SQLAlchemy would then close the connection gracefully, waiting 2 s more for the server
            # that does not answer. The socket is closed outright instead, and the statement fails at once.
            closer = asyncio.get_running_loop().call_later(self.timeout_s, _terminate, driver)
            try:
                await session.execute(READ_ONLY)
            finally:
                closer.cancel()
        except asyncio.CancelledError:  # the request itself was cancelled
            await _discard(session, driver)
            raise
        except Exception as exc:  # refused, timed out, pool busy, starting up: the primary answers instead
            await _discard(session, driver)
            self.failed(exc)
            return None
        return session

    def _checked(self, task: asyncio.Task[Verdict]) -> None:
        self._task = None

    def failed(self, exc: BaseException) -> None:
        """A request could not reach the replica: the primary serves reads for the back-off."""
        self._set(Verdict(False, None, f"unreachable: {type(exc).__name__}: {exc}"), down=True)

    def _set(self, verdict: Verdict, *, down: bool = False) -> Verdict:
        if verdict.usable != self.verdict.usable:
            (log.info if verdict.usable else log.warning)(
                "read replica %s: %s", "in use" if verdict.usable else "not used", verdict.reason)
        self.verdict = verdict
        self._checked_at = time.monotonic()
        if down:
            self._down_until = self._checked_at + self.backoff_s
        return verdict

    async def check(self) -> Verdict:
        """Measure the lag now (the rule in the module's docstring); never raises."""
        started = time.monotonic()
        try:  # on a connection of its own: a busy primary pool must not stall the check (nor the check take a slot)
            if self._primary_conn is None or self._primary_conn.is_closed():
                self._primary_conn = await asyncpg.connect(self._primary_dsn, timeout=self.timeout_s)
            primary_lsn = _lsn(await self._primary_conn.fetchval("SELECT pg_current_wal_flush_lsn()::text",
                                                                 timeout=self.timeout_s))
        except Exception as exc:  # the primary's own trouble is for its requests to report
            conn, self._primary_conn = self._primary_conn, None
            if conn is not None:
                _terminate(conn)
            return self._set(Verdict(False, None, f"primary position unknown: {type(exc).__name__}"))
        self._marks.append((started, primary_lsn))
        try:
            if self._conn is None or self._conn.is_closed():
                self._conn = await asyncpg.connect(self._dsn, timeout=self.timeout_s)
            row = await self._conn.fetchrow(_CHECK, timeout=self.timeout_s)
        except Exception as exc:  # refused, timed out, starting up, shutting down: all mean "not now"
            await self._drop_conn()
            return self._set(Verdict(False, None, f"unreachable: {type(exc).__name__}: {exc}"), down=True)
        assert row is not None
        in_recovery, replay_text, age_s = row
        if not in_recovery or replay_text is None:
            return self._set(Verdict(False, None, "not in recovery (not a replica)"))
        replayed = _lsn(replay_text)
        if replayed >= primary_lsn:
            return self._set(Verdict(True, 0.0, "caught up"))
        # Behind: the age of the last replayed commit, or the age of the latest earlier check whose primary
        # position the replica has passed (it then held all the primary had then), whichever is smaller.
        bounds = [math.inf if age_s is None else max(0.0, float(age_s))]
        bounds += [time.monotonic() - t for t, lsn in self._marks if lsn <= replayed]
        lag = min(bounds)
        if lag == math.inf:
            return self._set(Verdict(False, None, "behind, nothing replayed since it started"))
        ok = lag <= self.max_lag_s
        return self._set(Verdict(ok, lag, f"lag {lag:.2f} s {'within' if ok else 'over'} {self.max_lag_s} s"))

    async def _drop_conn(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            _terminate(conn)  # not close(): a frozen server would hold a graceful close

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        await self._drop_conn()
        if self._primary_conn is not None:
            with contextlib.suppress(Exception):
                await self._primary_conn.close(timeout=self.timeout_s)
        await self.engine.dispose()


def _terminate(driver: Any) -> None:
    with contextlib.suppress(Exception):
        driver.terminate()  # asyncpg's: the socket closed, no goodbye to a server that may not answer


async def _discard(session: AsyncSession, driver: Any) -> None:
    """Close a session whose connection may hang: its socket is closed outright first, never waited on."""
    if driver is not None:
        _terminate(driver)
    with contextlib.suppress(Exception):
        await session.close()


def make_read_replica(settings: Settings) -> ReadReplica | None:
    """The replica of DATABASE_READ_URL, or None: every read on the primary."""
    return ReadReplica(settings) if settings.database_read_url else None
