"""The ORM side of native statements (pgnative.statements) on the hot path of an alert: rows they wrote attached to the
session as if loaded, and plain column updates written without the unit of work."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import ARRAY, Boolean, Column, DateTime, Float, Integer, String, Table, Text, Uuid, inspect
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ColumnProperty, InstanceState, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from pgnative.statements import Native

# Column types written with a plain `CAST(:value AS type)` (others, geometry or JSON say, go through the ORM).
_PLAIN_TYPES = (ARRAY, Boolean, DateTime, Float, Integer, String, Text, Uuid)

T = TypeVar("T")


def attach_loaded(session: AsyncSession, cls: type[T], values: dict[str, Any]) -> T:
    """A row written by a native statement, as an ORM object in the session as if loaded from it: later changes
    flush as UPDATEs. `values` must hold every column (one left out would be expired, and loading it lazily
    fails under asyncio)."""
    obj = cls(**values)
    make_transient_to_detached(obj)
    session.add(obj)
    return obj


_DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]  # SQLAlchemy leaves dialect __init__ unannotated
_UPDATES: dict[tuple[str, tuple[str, ...]], Native] = {}


def _update_statement(table: Table, columns: tuple[Column[Any], ...], pk: Column[Any]) -> Native:
    key = (table.name, tuple(c.name for c in columns))
    found = _UPDATES.get(key)
    if found is None:
        sets = ", ".join(f"{c.name} = CAST(:{c.name} AS {c.type.compile(dialect=_DIALECT)})" for c in columns)
        found = _UPDATES[key] = Native(
            f"UPDATE {table.name} SET {sets} WHERE {pk.name} = CAST(:pk_ AS {pk.type.compile(dialect=_DIALECT)})")
    return found


def _plain_changes(state: InstanceState[Any]) -> tuple[Table, Column[Any], dict[Column[Any], str]] | None:
    """The changed columns of a loaded object (column → attribute key), or None when a change is anything else
    (a relationship, a primary key, a type without a plain cast) or the mapping is not one table, one key."""
    mapper = state.mapper
    if len(mapper.primary_key) != 1 or len(mapper.tables) != 1:
        return None
    table, pk = mapper.local_table, mapper.primary_key[0]
    if not isinstance(table, Table) or not isinstance(pk, Column):  # a mapping onto a join or a select
        return None
    changed: dict[Column[Any], str] = {}
    for key in state.committed_state:
        prop = mapper.attrs.get(key)
        if not isinstance(prop, ColumnProperty) or len(prop.columns) != 1:
            return None
        column = prop.columns[0]
        if not isinstance(column, Column) or column.primary_key or not isinstance(column.type, _PLAIN_TYPES):
            return None
        changed[column] = key
    return table, pk, changed


async def flush_column_changes(session: AsyncSession, cls: type) -> None:
    """Pending changes to loaded `cls` rows that are only column updates, written with one native UPDATE per row
    (in primary key order, as the unit of work would), the attributes then marked as stored. The unit of work
    costs more CPU than the statement (an alert's incident moves reported → located → dispatched in one
    transaction). Anything else, or anything new or deleted in the session, is left to the session's own flush,
    which the caller still runs."""
    if session.new or session.deleted:
        return
    dirty = sorted((inspect(o) for o in session.dirty if isinstance(o, cls)), key=lambda state: state.identity)
    for state in dirty:  # dirty objects are persistent: each has its identity
        plain = _plain_changes(state)
        if plain is None or not plain[2]:
            continue
        table, pk, changed = plain
        obj = state.obj()
        columns = tuple(sorted(changed, key=lambda c: c.name))
        params = {c.name: getattr(obj, changed[c]) for c in columns}
        await _update_statement(table, columns, pk).fetch(session, pk_=state.identity[0], **params)
        for key in changed.values():
            set_committed_value(obj, key, getattr(obj, key))
