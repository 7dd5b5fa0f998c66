"""The figures /metrics reads from PostgreSQL and Redis: computed at scrape time, at most once per
`metrics_cache_s` per process however often (or by how many scrapers) it is scraped, never per request.

Every query is a count or a min over an indexed or partial set (open incidents, pending offers, unfired
deadlines, undelivered reports), bounded by the readiness timeout: a dependency that does not answer shows as
`gridcmd_dependency_up 0` rather than a scrape that hangs. PostgreSQL's `up` is a `SELECT 1` of its own: a figures
read that is only slow (2.6 s on a starved host in the soak, bench/soak.py) leaves gaps in the figures, but must
not page an operator with "PostgreSQL unreachable" while every request is being answered."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from command.core.lifecycle import IncidentStatus
from dispatch import keys

# Finished incidents are most of the table and only ever grow: they are not counted at each scrape (a count of
# a million rows took ~0.9 s); open ones are, through the index on status. Their totals: the alert counters.
FINISHED = ["closed", "cancelled", "merged"]
OPEN = [s.value for s in IncidentStatus if s.value not in FINISHED]  # = ANY: index ranges, not a whole-index scan
# One statement, one round trip: every figure of the database at once. The scheduler's lag is how long the oldest
# thing it has not fired has been due, each stage from its own time (a reminder from remind_at, overdue from due_at,
# an escalation from next_escalation_at), as its claims select them (partial indexes of migration 0023). Measuring
# an overdue stage from remind_at, as before, made every deadline that had just come due look 10+ minutes late:
# the hour-long soak fired GridcmdSchedulerLagging with the scheduler keeping up.
_STATE_SQL = text("""
SELECT
  (SELECT coalesce(jsonb_object_agg(status, n), '{}'::jsonb)
     FROM (SELECT status, count(*) AS n FROM incidents WHERE status = ANY(:open) GROUP BY status) s) AS by_state,
  (SELECT count(*) FROM incidents WHERE status = 'needs_attention') AS attention,
  (SELECT extract(epoch FROM now() - min(updated_at)) FROM incidents WHERE status = 'needs_attention')
    AS attention_oldest_s,
  (SELECT count(*) FROM orders WHERE assignee_kind = 'worker' AND status IN ('sent', 'delivered', 'read'))
    AS offers_pending,
  (SELECT count(*) FROM orders WHERE status = 'timed_out' AND updated_at > now() - interval '1 hour')
    AS offers_timed_out_1h,
  (SELECT count(*) FROM deadlines WHERE overdue_at IS NOT NULL AND met_at IS NULL) AS deadlines_overdue,
  (SELECT extract(epoch FROM now() - least(
     (SELECT min(remind_at) FROM deadlines WHERE met_at IS NULL AND reminded_at IS NULL AND remind_at <= now()),
     (SELECT min(due_at) FROM deadlines WHERE met_at IS NULL AND overdue_at IS NULL AND due_at <= now()),
     (SELECT min(next_escalation_at) FROM deadlines WHERE met_at IS NULL AND next_escalation_at <= now()))))
    AS scheduler_lag_s,
  (SELECT count(*) FROM hotline_outbox WHERE delivered_at IS NULL) AS outbox_pending,
  (SELECT count(*) FROM hotline_outbox WHERE delivered_at IS NULL AND attempts > 0) AS outbox_failing,
  (SELECT extract(epoch FROM now() - min(created_at)) FROM hotline_outbox WHERE delivered_at IS NULL)
    AS outbox_lag_s
""")


@dataclass
class State:
    """One reading; None where the source did not answer."""

    db_up: bool = False  # PostgreSQL answered a SELECT 1
    db_figures: bool = False  # ... and the figures below were read (a slow read leaves them None)
    redis_up: bool = False
    incidents_by_state: dict[str, int] = field(default_factory=dict)
    attention: int | None = None
    attention_oldest_s: float = 0.0
    offers_pending: int | None = None
    offers_timed_out_1h: int | None = None
    deadlines_overdue: int | None = None
    scheduler_lag_s: float = 0.0
    outbox_pending: int | None = None
    outbox_failing: int | None = None
    outbox_lag_s: float = 0.0
    workers_present: int | None = None
    workers_known: int | None = None
    stream_length: int | None = None
    read_s: float = 0.0


async def _read_db(engine: AsyncEngine, state: State) -> None:
    async with engine.connect() as conn:
        row = (await conn.execute(_STATE_SQL, {"open": OPEN})).mappings().one()
    state.incidents_by_state = {str(k): int(v) for k, v in (row["by_state"] or {}).items()}
    state.attention = int(row["attention"])
    state.attention_oldest_s = float(row["attention_oldest_s"] or 0)
    state.offers_pending = int(row["offers_pending"])
    state.offers_timed_out_1h = int(row["offers_timed_out_1h"])
    state.deadlines_overdue = int(row["deadlines_overdue"])
    state.scheduler_lag_s = float(row["scheduler_lag_s"] or 0)
    state.outbox_pending = int(row["outbox_pending"])
    state.outbox_failing = int(row["outbox_failing"])
    state.outbox_lag_s = float(row["outbox_lag_s"] or 0)
    state.db_figures = state.db_up = True


async def _ping_db(engine: AsyncEngine, state: State) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
    state.db_up = True


async def _read_redis(redis: Redis, state: State, *, presence_ttl_s: float) -> None:
    async with redis.pipeline(transaction=False) as pipe:
        pipe.zcount(keys.SEEN, time.time() - presence_ttl_s, "+inf")
        pipe.hlen(keys.MAX_LOAD)
        pipe.xlen(keys.STREAM)
        present, known, length = await pipe.execute()
    state.workers_present, state.workers_known, state.stream_length = int(present), int(known), int(length)
    state.redis_up = True


async def read_state(engine: AsyncEngine, redis: Redis, *, presence_ttl_s: float, timeout_s: float) -> State:
    """Both sources at once, each bounded by timeout_s; a failure leaves its fields None (and its `up` 0)."""
    state = State()
    started = time.perf_counter()

    async def bounded(coro: object) -> None:
        try:
            async with asyncio.timeout(timeout_s):
                await coro  # type: ignore[misc]
        except Exception:  # down, slow or failing: reported as up=0, not raised into the scrape
            pass

    await asyncio.gather(bounded(_read_db(engine, state)), bounded(_ping_db(engine, state)),
                         bounded(_read_redis(redis, state, presence_ttl_s=presence_ttl_s)))
    state.read_s = time.perf_counter() - started
    return state


class CachedState:
    """The last reading, refreshed when older than `max_age_s`; concurrent scrapes share one refresh."""

    def __init__(self, engine: AsyncEngine, redis: Redis, *, max_age_s: float, presence_ttl_s: float,
                 timeout_s: float) -> None:
        self._args = (engine, redis)
        self._max_age_s = max_age_s
        self._presence_ttl_s = presence_ttl_s
        self._timeout_s = timeout_s
        self._state: State | None = None
        self._at = 0.0
        self._lock = asyncio.Lock()
        self.reads = 0  # how many times the sources were actually queried (tests check the cache)

    async def get(self) -> State:
        async with self._lock:
            if self._state is None or time.monotonic() - self._at >= self._max_age_s:
                self._state = await read_state(*self._args, presence_ttl_s=self._presence_ttl_s,
                                               timeout_s=self._timeout_s)
                self._at = time.monotonic()
                self.reads += 1
            return self._state
