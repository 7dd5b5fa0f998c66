"""Reference data read on every alert (categories, routing and deadline rules, calendar overrides), cached per
process.

These tables are small and change by hand (an administrator, an import), while intake reads them several
times per alert; reading them from the cache spares the statements. Freshness:

- a session that writes any of these tables (ORM flush, or an ORM INSERT/UPDATE/DELETE statement) reads them
  from the database for the rest of its life and never fills the cache (its rows may still roll back), and
  its commit empties the cache of this process;
- another process's change is seen after at most `TTL_S` seconds.

The cache holds Core rows (immutable tuples with attribute access), never ORM instances bound to a session."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, Table, event, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from command.core.models import CalendarOverride, Category, DeadlineRule, RoutingRule, table_of

TTL_S = 5.0
_TABLES: dict[str, Table] = {t.name: t for t in map(table_of, (Category, RoutingRule, DeadlineRule, CalendarOverride))}
_WROTE = "gridcmd_refdata_wrote"
_cache: dict[str, tuple[float, tuple[Row[Any], ...]]] = {}


def clear() -> None:
    """Forget everything cached in this process (next reads go to the database)."""
    _cache.clear()


async def rows(session: AsyncSession, table: str) -> Sequence[Row[Any]]:
    """Every row of one reference table, from the cache while fresh."""
    now = time.monotonic()
    hit = _cache.get(table)
    if hit is not None and hit[0] > now and not session.info.get(_WROTE):
        return hit[1]
    result = tuple((await session.execute(select(_TABLES[table]))).all())
    if not session.info.get(_WROTE):
        _cache[table] = (now + TTL_S, result)
    return result


async def category(session: AsyncSession, code: str) -> Row[Any] | None:
    return next((c for c in await rows(session, "categories") if c.code == code), None)


async def routing_rules(session: AsyncSession, category_code: str) -> list[Row[Any]]:
    return [r for r in await rows(session, "routing_rules") if r.category_code == category_code]


async def deadline_rules(session: AsyncSession) -> Sequence[Row[Any]]:
    return await rows(session, "deadline_rules")


async def calendar_overrides(session: AsyncSession) -> Sequence[Row[Any]]:
    return await rows(session, "calendar_overrides")


def _touches(obj: object) -> bool:
    table = getattr(type(obj), "__table__", None)
    return table is not None and table.name in _TABLES


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, flush_context: UOWTransaction) -> None:
    if any(_touches(o) for o in (*session.new, *session.dirty, *session.deleted)):
        session.info[_WROTE] = True
        clear()


@event.listens_for(Session, "do_orm_execute")
def _on_execute(state: ORMExecuteState) -> None:
    if (state.is_insert or state.is_update or state.is_delete) and state.bind_mapper is not None \
            and isinstance(table := state.bind_mapper.local_table, Table) and table.name in _TABLES:
        state.session.info[_WROTE] = True
        clear()


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.get(_WROTE):
        clear()
