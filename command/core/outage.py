"""PostgreSQL or Redis unavailable: which exceptions mean it, and how to log an outage without a flood.

A stopped, restarting, hung or saturated database or Redis surfaces as a dozen exception classes from three
libraries (asyncpg raw from native statements, SQLAlchemy's wrappers, redis-py, plain OSError/TimeoutError from a
connect). `unavailable` names the dependency when an exception is one of those, so that requests answer 503 (web/
errors.py) and background loops wait and retry instead of dying or printing a traceback per attempt.
`OutageLog` says it once, then a count at most every `every_s`, and once more when it is over."""

from __future__ import annotations

import errno
import logging
import socket
import time
from dataclasses import dataclass

import asyncpg
import redis.exceptions as redis_errors
from sqlalchemy import exc as sa_errors

POSTGRES = "postgres"
REDIS = "redis"

# SQLSTATEs of a database that is away or overloaded, not of a wrong statement: class 08 (connection exception),
# 57P01-57P03 (shut down by an operator, crashed, starting up), 57014 (cancelled: statement_timeout),
# 53300 (too many connections), 55P03 (lock_timeout).
_UNAVAILABLE_STATES = ("57P01", "57P02", "57P03", "57014", "53300", "55P03")

# The exception classes worth a look (web/errors.py registers a handler for each; anything else stays a 500).
CANDIDATES: tuple[type[BaseException], ...] = (
    sa_errors.DBAPIError, sa_errors.TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError,
    asyncpg.exceptions._base.InternalClientError,
    redis_errors.ConnectionError, redis_errors.TimeoutError, redis_errors.ResponseError, OSError,
)

# Replies of a server that is not (or no longer) a writable master: during a Sentinel failover a connection may
# still reach the old master, demoted to a replica (READONLY; redis-py's Sentinel pool turns most into a
# ConnectionError), or a replica cut off from its master (MASTERDOWN). Both pass once the promotion is done.
_SWITCHING = ("READONLY", "MASTERDOWN")


def _sqlstate(exc: BaseException) -> str | None:
    state = getattr(exc, "sqlstate", None)
    return state if isinstance(state, str) else None


def _one(exc: BaseException) -> str | None:
    if isinstance(exc, (redis_errors.ConnectionError, redis_errors.TimeoutError)):
        return REDIS
    # A Redis Cluster shard without a master (CLUSTERDOWN, MASTERDOWN), a slot nobody serves yet, a slot in
    # migration (TRYAGAIN): down or switching, as a failover of a single Redis. Not every RedisClusterException: a
    # cross-slot command is a bug (500); "cannot be connected" carries its ConnectionError as the cause.
    if isinstance(exc, (redis_errors.ClusterError, redis_errors.TryAgainError, redis_errors.SlotNotCoveredError)):
        return REDIS
    if isinstance(exc, redis_errors.ReadOnlyError) or (
            isinstance(exc, redis_errors.ResponseError) and any(word in str(exc) for word in _SWITCHING)):
        return REDIS
    if isinstance(exc, sa_errors.TimeoutError):  # no pooled connection came free in time
        return POSTGRES
    if isinstance(exc, sa_errors.DBAPIError) and (
            exc.connection_invalidated or isinstance(exc, (sa_errors.OperationalError, sa_errors.InterfaceError))):
        return POSTGRES
    if isinstance(exc, asyncpg.InterfaceError):  # "connection is closed", "another operation is in progress"
        return POSTGRES
    # A connection left mid-protocol by an operation cut short while PostgreSQL went away or came back ("cannot
    # switch to state …; another operation is in progress"): that connection is dropped, the request can be retried.
    if isinstance(exc, asyncpg.exceptions._base.InternalClientError):
        return POSTGRES
    if isinstance(exc, asyncpg.PostgresConnectionError):
        return POSTGRES
    state = _sqlstate(exc)
    if state is not None and (state.startswith("08") or state in _UNAVAILABLE_STATES):
        return POSTGRES
    return None


def unavailable(exc: BaseException) -> str | None:
    """`postgres` or `redis` when `exc` (or what caused it) says that dependency is down, slow or saturated;
    None for anything else (a bug, a constraint violation, a file that cannot be written…). A bare network error
    (a connect that was refused, reset or timed out, a statement that got no answer) counts as PostgreSQL's:
    redis-py wraps its own."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        found = _one(current)
        if found is not None:
            return found
        orig = getattr(current, "orig", None)  # SQLAlchemy's wrapped driver error
        if isinstance(orig, BaseException) and id(orig) not in seen:
            found = _one(orig)
            if found is not None:
                return found
        current = current.__cause__ or current.__context__
    if _network(exc):
        return POSTGRES
    return None


_NETWORK_ERRNOS = {errno.ECONNREFUSED, errno.ECONNRESET, errno.ECONNABORTED, errno.ETIMEDOUT, errno.EPIPE,
                   errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EHOSTDOWN}


def _network(exc: BaseException) -> bool:
    """A socket that could not connect, was reset or got no answer (not a file that could not be written)."""
    return isinstance(exc, (ConnectionError, TimeoutError, socket.gaierror)) or (
        isinstance(exc, OSError) and exc.errno in _NETWORK_ERRNOS)


def describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__


@dataclass
class _State:
    since: float
    last_logged: float
    suppressed: int = 0


class OutageLog:
    """One line when a dependency becomes unavailable, then at most one line every `every_s` with the count of
    failures since, and one line when `recovered` is called after a failure."""

    def __init__(self, logger: logging.Logger, *, every_s: float = 10.0) -> None:
        self.logger = logger
        self.every_s = every_s
        self._state: dict[str, _State] = {}

    def failed(self, dependency: str, exc: BaseException, *, where: str) -> None:
        now = time.monotonic()
        state = self._state.get(dependency)
        if state is None:
            self._state[dependency] = _State(since=now, last_logged=now)
            self.logger.warning("%s unavailable (%s): %s", dependency, where, describe(exc))
            return
        state.suppressed += 1
        if now - state.last_logged >= self.every_s:
            self.logger.warning("%s still unavailable after %.0f s (%d more failures, last in %s): %s",
                                dependency, now - state.since, state.suppressed, where, describe(exc))
            state.last_logged, state.suppressed = now, 0

    def recovered(self, dependency: str) -> None:
        state = self._state.pop(dependency, None)
        if state is not None:
            self.logger.warning("%s available again after %.1f s", dependency, time.monotonic() - state.since)

    def failing(self, dependency: str) -> bool:
        return dependency in self._state

    def note(self, exc: BaseException, *, where: str) -> bool:
        """Record `exc` if it is an outage (True); False for anything else, which the caller reports itself."""
        dependency = unavailable(exc)
        if dependency is None:
            return False
        self.failed(dependency, exc, where=where)
        return True


# The process's one record of outages: requests (web/errors.py) and every background loop report to it, so an
# outage is one line and then one line every 10 s per dependency, however many requests and loops run into it.
OUTAGES = OutageLog(logging.getLogger("gridcmd.outage"))
