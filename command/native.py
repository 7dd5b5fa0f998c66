"""Statements on the hot path of an alert, run straight on the session's asyncpg connection.

SQLAlchemy's statement layers (ORM compile, cache key, parameter and result processing) cost more CPU than
these short indexed statements take in PostgreSQL; geo.locate does the same for the locate query. A `Native`
statement is written once, with `:name` parameters, converted to asyncpg's `$n` form at import and prepared
once per connection by asyncpg. It runs in the session's transaction (on the connection the session holds,
BEGIN sent first if the session has not sent it yet), so it commits or rolls back with everything else. It
does not autoflush: callers flush first when the statement must see the session's pending changes. On any
other driver it runs through `session.execute(text(...))`.

Parameters are passed as the driver takes them: datetimes aware, lists for arrays, JSON as text cast in SQL
(write `CAST(:p AS type)`, not `:p::type`, which SQLAlchemy's text() would misread on the portable path)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

from command.txhooks import TX_PREFIX

_DRIVER = TX_PREFIX + "native_driver"
_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


class Native:
    def __init__(self, sql: str) -> None:
        self.names: tuple[str, ...] = tuple(dict.fromkeys(_PARAM.findall(sql)))
        self.portable = text(sql)
        self.sql = _PARAM.sub(lambda m: f"${self.names.index(m.group(1)) + 1}", sql)

    def _args(self, params: dict[str, Any]) -> list[Any]:
        return [params[n] for n in self.names]

    async def fetch(self, session: AsyncSession, **params: Any) -> Sequence[Sequence[Any]]:
        """Every row (tuples with positional access)."""
        driver = await _driver(session)
        if driver is None:
            return (await session.execute(self.portable, params)).all()
        return await driver.fetch(self.sql, *self._args(params))

    async def fetchrow(self, session: AsyncSession, **params: Any) -> Sequence[Any] | None:
        driver = await _driver(session)
        if driver is None:
            return (await session.execute(self.portable, params)).first()
        return await driver.fetchrow(self.sql, *self._args(params))

    async def fetchval(self, session: AsyncSession, **params: Any) -> Any:
        row = await self.fetchrow(session, **params)
        return None if row is None else row[0]


async def _driver(session: AsyncSession) -> Any:
    """The asyncpg connection the session's transaction runs on, with that transaction begun (None on another
    driver).

    SQLAlchemy's asyncpg adapter sends BEGIN lazily, with the first statement it executes itself: a statement
    sent straight to the driver before that would run in autocommit, outside the session's transaction (and an
    INSERT would be committed whatever happens next). So the adapter is asked to begin first, as its own cursor
    does before each statement (tests/test_native.py holds this to the adapter's behaviour)."""
    known = session.info.get(_DRIVER)
    if known is not None:  # this transaction's, begun (the key is dropped when the transaction ends)
        return known
    raw = await (await session.connection()).get_raw_connection()
    driver, adapter = raw.driver_connection, raw.dbapi_connection
    if not hasattr(driver, "fetchrow") or not hasattr(adapter, "_start_transaction"):
        return None
    if adapter._transaction is None and adapter.isolation_level != "autocommit":
        await adapter._start_transaction()
    session.info[_DRIVER] = driver
    return driver


T = TypeVar("T")


def attach_loaded(session: AsyncSession, cls: type[T], values: dict[str, Any]) -> T:
    """A row written by a native statement, as an ORM object in the session as if loaded from it: later changes
    flush as UPDATEs. `values` must hold every column (one left out would be expired, and loading it lazily
    fails under asyncio)."""
    obj = cls(**values)
    make_transient_to_detached(obj)
    session.add(obj)
    return obj
