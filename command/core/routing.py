"""Routing rules and departments, read as data.

A rule is per category, overridable per region: among the category's rules whose region is on the incident's
region path (or has no region: the category default), the deepest region wins. A category without any rule
gets the built-in default (one worker, no department, settings' ack limit and attempts). The rule's priority, when
set, is the one intake gives an alert whose sender named none (otherwise the category's default_priority). For each
department kind the rule names, the department serving the deepest region on the path wins (ties: lowest id); a
department serves its own region and the further regions of its jurisdiction (`region_codes`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import String, cast, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from command.core import refdata
from command.core.models import Department, Worker
from command.core.settings import Settings


@dataclass(frozen=True, slots=True)
class Rule:
    workers_needed: int
    department_kinds: tuple[str, ...]
    radius_m: float
    own_grid_first: bool
    ack_timeout_s: int
    max_attempts: int
    rule_id: int | None = None  # None: the built-in default
    priority: int | None = None  # None: the category's default_priority


def codes(values: Sequence[str]) -> object:
    """A varchar[] literal for the array operators (&&, @>) the generic ARRAY type does not offer."""
    return cast(list(values), ARRAY(String(64)))


def default_rule(settings: Settings) -> Rule:
    return Rule(workers_needed=1, department_kinds=(), radius_m=3000.0, own_grid_first=True,
                ack_timeout_s=settings.ack_timeout_s, max_attempts=settings.max_dispatch_attempts)


def _depth(region_code: str | None, path: Sequence[str]) -> int:
    """-1 for a default (no region), the index on the path otherwise."""
    return -1 if region_code is None else list(path).index(region_code)


async def routing_rule(session: AsyncSession, *, category_code: str, region_path: Sequence[str],
                       settings: Settings) -> Rule:
    path = set(region_path)
    rows = [r for r in await refdata.routing_rules(session, category_code)
            if r.region_code is None or r.region_code in path]
    if not rows:
        return default_rule(settings)
    best = max(rows, key=lambda r: _depth(r.region_code, region_path))
    return Rule(
        workers_needed=max(0, best.workers_needed), department_kinds=tuple(best.department_kinds or ()),
        radius_m=float(best.radius_m), own_grid_first=best.own_grid_first, ack_timeout_s=max(1, best.ack_timeout_s),
        max_attempts=max(1, best.max_attempts), rule_id=best.id, priority=best.priority,
    )


def _served_depth(department: Department, path: Sequence[str]) -> int:
    """How deep on the path the department's jurisdiction (its region and any further regions) reaches."""
    return max(_depth(c, path) for c in (department.region_code, *(department.region_codes or ())) if c in path)


async def departments_for(session: AsyncSession, *, kinds: Sequence[str], region_path: Sequence[str]
                          ) -> tuple[list[Department], list[str]]:
    """(the department chosen per kind, in the rule's order; the kinds nobody serves on this path)."""
    if not kinds or not region_path:
        return [], list(kinds)
    rows = (await session.scalars(
        select(Department).where(Department.kind.in_(list(kinds)),
                                 or_(Department.region_code.in_(list(region_path)),
                                     Department.region_codes.op("&&")(codes(region_path))))
        .order_by(Department.id)
    )).all()
    chosen: list[Department] = []
    missing: list[str] = []
    for kind in kinds:
        serving = [d for d in rows if d.kind == kind]
        if serving:
            chosen.append(max(serving, key=lambda d: (_served_depth(d, region_path), -d.id)))
        else:
            missing.append(kind)
    return chosen, missing


async def own_grid_workers(session: AsyncSession, *, region_path: Sequence[str]) -> list[int]:
    """Workers who serve a region on the incident's path (normally its grid), on duty."""
    if not region_path:
        return []
    return list((await session.scalars(
        select(Worker.id).where(Worker.grid_codes.op("&&")(codes(region_path)), Worker.on_duty.is_(True))
    )).all())
