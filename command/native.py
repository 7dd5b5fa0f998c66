"""Statements on the hot path of an alert, run straight on the session's asyncpg connection (geo.native), with
the driver connection kept for the rest of the transaction, and the ORM side of rows they write.

geo.native has the statement itself (`:name` parameters, prepared once per connection, BEGIN sent first, the
portable path on other drivers). Here the driver connection found for a transaction is kept in session.info
under a per-transaction key, which command.txhooks drops when the transaction ends, so later statements of the
same transaction skip the lookup."""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

from command.txhooks import TX_PREFIX
from geo import native


class Native(native.Native):
    driver_key: ClassVar[str | None] = TX_PREFIX + "native_driver"


T = TypeVar("T")


def attach_loaded(session: AsyncSession, cls: type[T], values: dict[str, Any]) -> T:
    """A row written by a native statement, as an ORM object in the session as if loaded from it: later changes
    flush as UPDATEs. `values` must hold every column (one left out would be expired, and loading it lazily
    fails under asyncio)."""
    obj = cls(**values)
    make_transient_to_detached(obj)
    session.add(obj)
    return obj
