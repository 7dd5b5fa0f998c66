"""The admin's table from CAP `<event>` / `<category>` to a gridcmd category (cap_category_map).

A message's info is mapped by its event first (exact text, e.g. "暴雨" or "Strong Winds"), then by each of its
categories in order (Geo, Met, Safety, Security, Rescue, Fire, Health, Env, Transport, Infra, CBRNE, Other); the
mapping may set the priority too (otherwise it follows CAP severity)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from command.core import refdata
from command.core.errors import InvalidInput, NotFound
from command.core.models import CapCategoryMap

KINDS = ("event", "category")
CAP_CATEGORIES = ("Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env", "Transport", "Infra",
                  "CBRNE", "Other")


@dataclass(frozen=True, slots=True)
class Mapping:
    kind: str
    value: str
    category_code: str
    priority: int | None


def _out(row: CapCategoryMap) -> Mapping:
    return Mapping(kind=row.kind, value=row.value, category_code=row.category_code, priority=row.priority)


def _check(kind: str, value: str) -> None:
    if kind not in KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}", details=[{"field": "kind"}])
    if not 0 < len(value) <= 128 or value != value.strip():
        raise InvalidInput("value must be 1-128 characters without surrounding spaces", details=[{"field": "value"}])
    if kind == "category" and value not in CAP_CATEGORIES:
        raise InvalidInput(f"CAP 1.2 categories are {', '.join(CAP_CATEGORIES)}", details=[{"field": "value"}])


async def put(session: AsyncSession, *, kind: str, value: str, category_code: str, priority: int | None) -> Mapping:
    _check(kind, value)
    category = await refdata.category(session, category_code)
    if category is None or not category.active:
        raise InvalidInput(f"unknown or inactive category {category_code!r}", details=[{"field": "category_code"}])
    if priority is not None and not 1 <= priority <= 4:
        raise InvalidInput("priority must be 1 (most urgent) to 4", details=[{"field": "priority"}])
    row = await session.get(CapCategoryMap, (kind, value))
    if row is None:
        row = CapCategoryMap(kind=kind, value=value, category_code=category_code, priority=priority)
        session.add(row)
    else:
        row.category_code, row.priority = category_code, priority
    await session.flush()
    return _out(row)


async def remove(session: AsyncSession, *, kind: str, value: str) -> None:
    _check(kind, value)
    q = delete(CapCategoryMap).where(CapCategoryMap.kind == kind, CapCategoryMap.value == value)
    if (await session.execute(q)).rowcount == 0:  # type: ignore[attr-defined]
        raise NotFound(f"no mapping for CAP {kind} {value!r}")


async def list_all(session: AsyncSession) -> list[Mapping]:
    rows = await session.scalars(select(CapCategoryMap).order_by(CapCategoryMap.kind.desc(), CapCategoryMap.value))
    return [_out(r) for r in rows]


async def resolve(session: AsyncSession, *, event: str, categories: Sequence[str]) -> Mapping | None:
    """The mapping for one info: its event, else its first mapped category."""
    wanted = [("event", event), *(("category", c) for c in categories)]
    rows = {(r.kind, r.value): r for r in await session.scalars(select(CapCategoryMap).where(
        CapCategoryMap.value.in_([v for _, v in wanted])))}
    for key in wanted:
        if key in rows:
            return _out(rows[key])
    return None
