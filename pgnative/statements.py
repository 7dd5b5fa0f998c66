"""Statements run straight on the session's asyncpg connection, in the session's transaction.

SQLAlchemy's statement layers (ORM compile, cache key, parameter and result processing) cost more CPU than
short indexed statements take in PostgreSQL (docs/benchmarks.md has the figures). A `Native` statement is
written once, with `:name` parameters, converted to asyncpg's `$n` form at import and prepared once per
connection by asyncpg. It runs in the session's transaction (on the connection the session holds, BEGIN sent
first if the session has not sent it yet), so it commits or rolls back with everything else. It does not
autoflush: callers flush first when the statement must see the session's pending changes. On any other driver
it runs through `session.execute(text(...))`.

Parameters are passed as the driver takes them: datetimes aware, lists for arrays, JSON as text cast in SQL
(write `CAST(:p AS type)`, not `:p::type`, which SQLAlchemy's text() would misread on the portable path);
`::casts` elsewhere are left alone.

The driver connection found for a transaction is kept in session.info for the rest of it (the lookup is two
greenlet hops through SQLAlchemy's async layer, a measurable part of a short statement's cost), and dropped by a
session event when the transaction ends, so a later transaction never uses a connection it no longer holds.

Errors raised here come straight from asyncpg, past SQLAlchemy's error handling: when one means the connection is
gone or in an unknown state (closed, reset, no answer within the command timeout, a cancelled call), the
connection is invalidated here (`drop_if_broken`), so the pool never hands it out again."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

import asyncpg
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


_DRIVER_KEY = "pgnative_driver"  # session.info: this transaction's begun driver connection


@event.listens_for(Session, "after_transaction_end")
def _forget_driver(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the root transaction (committed, rolled back or closed), not a savepoint
        session.info.pop(_DRIVER_KEY, None)


class Row(Protocol):
    """A result row with positional access: an asyncpg Record, or a SQLAlchemy Row on another driver."""

    def __getitem__(self, index: int, /) -> Any: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[Any]: ...


class Native:

    def __init__(self, sql: str) -> None:
        self.names: tuple[str, ...] = tuple(dict.fromkeys(_PARAM.findall(sql)))
        self.portable = text(sql)
        self.sql = _PARAM.sub(lambda m: f"${self.names.index(m.group(1)) + 1}", sql)

    def _args(self, params: dict[str, Any]) -> list[Any]:
        return [params[n] for n in self.names]

    async def _driver(self, session: AsyncSession) -> asyncpg.Connection | None:
        known: asyncpg.Connection | None = session.info.get(_DRIVER_KEY)
        if known is not None:  # this transaction's, begun
            return known
        found = await driver(session)
        if found is not None:
            session.info[_DRIVER_KEY] = found
        return found

    async def fetch(self, session: AsyncSession, **params: Any) -> Sequence[Row]:
        """Every row (tuples with positional access)."""
        conn = await self._driver(session)
        if conn is None:
            return (await session.execute(self.portable, params)).all()
        try:
            return await conn.fetch(self.sql, *self._args(params))
        except BaseException as exc:
            await drop_if_broken(await session.connection(), conn, exc)
            raise

    async def fetchrow(self, session: AsyncSession, **params: Any) -> Row | None:
        conn = await self._driver(session)
        if conn is None:
            return (await session.execute(self.portable, params)).first()
        try:
            return await conn.fetchrow(self.sql, *self._args(params))
        except BaseException as exc:
            await drop_if_broken(await session.connection(), conn, exc)
            raise

    async def fetchval(self, session: AsyncSession, **params: Any) -> Any:
        row = await self.fetchrow(session, **params)
        return None if row is None else row[0]


async def driver(session: AsyncSession) -> asyncpg.Connection | None:
    """The asyncpg connection the session's transaction runs on, with that transaction begun (None on another
    driver).

    SQLAlchemy's asyncpg adapter sends BEGIN lazily, with the first statement it executes itself: a statement
    sent straight to the driver before that would run in autocommit, outside the session's transaction (and an
    INSERT would be committed whatever happens next). So the adapter is asked to begin first, as its own cursor
    does before each statement (tests/pgnative/test_native.py holds this to the adapter's behaviour)."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    conn = raw.driver_connection
    # SQLAlchemy's asyncpg adapter; what it begins with is private (and untyped).
    adapter: Any = raw.dbapi_connection
    if not isinstance(conn, asyncpg.Connection) or not hasattr(adapter, "_start_transaction"):
        return None
    if adapter._transaction is None and adapter.isolation_level != "autocommit":
        try:
            await adapter._start_transaction()
        except BaseException as exc:
            await drop_if_broken(connection, conn, exc)
            raise
    return conn


# Besides a closed socket: asyncpg's InternalClientError is a connection whose protocol state is inconsistent
# (an operation cut short left it "in progress"); nothing more can run on it.
_BROKEN = (OSError, asyncpg.InterfaceError, asyncpg.exceptions._base.InternalClientError)


def _broken(conn: asyncpg.Connection, exc: BaseException) -> bool:
    if isinstance(exc, (*_BROKEN, asyncio.CancelledError)):  # TimeoutError is an OSError
        return True
    if isinstance(exc.__cause__, _BROKEN):  # SQLAlchemy's adapter translated it
        return True
    return conn.is_closed()


async def drop_if_broken(connection: AsyncConnection, conn: asyncpg.Connection, exc: BaseException) -> None:
    """After a native statement failed: invalidate the connection if it cannot be trusted any more (the caller
    re-raises; the session's rollback then returns nothing to the pool)."""
    if _broken(conn, exc):
        with contextlib.suppress(Exception):  # at once: a graceful close would wait for the same silent server
            conn.terminate()
        with contextlib.suppress(Exception):
            await connection.invalidate(exc if isinstance(exc, Exception) else None)
