"""The ORM side of rows written by native statements (geo.native) on the hot path of an alert."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

T = TypeVar("T")


def attach_loaded(session: AsyncSession, cls: type[T], values: dict[str, Any]) -> T:
    """A row written by a native statement, as an ORM object in the session as if loaded from it: later changes
    flush as UPDATEs. `values` must hold every column (one left out would be expired, and loading it lazily
    fails under asyncio)."""
    obj = cls(**values)
    make_transient_to_detached(obj)
    session.add(obj)
    return obj
