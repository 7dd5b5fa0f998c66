"""Departments, categories and routing rules on the admin console. Departments and region-bound routing rules are
a region admin's to edit inside their region; categories and region-less (default) rules are installation-wide.
Writes flush in the caller's transaction; command.core.refdata drops its cache on them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from command.admin.admin_scope import admin_region, ensure_region, ensure_regions, region_codes_under
from command.admin.audit import snapshot
from command.core.errors import Conflict, InvalidInput, NotFound
from command.core.models import Category, Department, RoutingRule, User
from command.core.security import Principal

DEPARTMENT_FIELDS = ("code", "name", "kind", "region_code", "region_codes", "phone")
CATEGORY_FIELDS = ("code", "name_zh", "name_en", "group", "default_priority", "item_type", "active")
RULE_FIELDS = ("category_code", "region_code", "workers_needed", "department_kinds", "radius_m", "own_grid_first",
               "ack_timeout_s", "max_attempts", "priority")


@dataclass(slots=True)
class DepartmentSpec:
    name: str
    kind: str
    region_code: str
    region_codes: list[str] = field(default_factory=list)
    phone: str | None = None


async def departments(session: AsyncSession, principal: Principal) -> list[tuple[Department, list[User]]]:
    """Departments in scope with their liaisons (联络员)."""
    query = select(Department).order_by(Department.id)
    if (region := admin_region(principal)) is not None:
        query = query.where(Department.region_code.in_(region_codes_under(region)))
    rows = list((await session.scalars(query)).all())
    liaisons = (await session.scalars(select(User).where(
        User.role == "liaison", User.department_code.in_([d.code for d in rows])).order_by(User.id))).all()
    return [(d, [u for u in liaisons if u.department_code == d.code]) for d in rows]


async def save_department(session: AsyncSession, principal: Principal, code: str,
                          spec: DepartmentSpec) -> tuple[Department, dict[str, Any] | None]:
    """Create or update a department by code; (it, its state before or None when new)."""
    await ensure_regions(session, principal, [spec.region_code, *spec.region_codes])
    dept = await session.scalar(select(Department).where(Department.code == code).with_for_update())
    before = None
    if dept is None:
        dept = Department(code=code)
        session.add(dept)
    else:
        await ensure_region(session, principal, dept.region_code)
        before = snapshot(dept, DEPARTMENT_FIELDS)
    for key, value in asdict(spec).items():
        setattr(dept, key, value)
    await session.flush()
    return dept, before


async def save_category(session: AsyncSession, principal: Principal, code: str,
                        values: dict[str, Any]) -> tuple[Category, dict[str, Any] | None]:
    await ensure_region(session, principal, None)  # categories are installation-wide
    category = await session.get(Category, code, with_for_update=True)
    before = None
    if category is None:
        missing = {"name_zh", "name_en"} - values.keys()
        if missing:
            raise InvalidInput(f"a new category needs {', '.join(sorted(missing))}")
        category = Category(code=code, group="service", default_priority=3, item_type="promise", active=True)
        session.add(category)
    else:
        before = snapshot(category, CATEGORY_FIELDS)
    for key, value in values.items():
        setattr(category, key, value)
    await session.flush()
    return category, before


async def routing_rules(session: AsyncSession, principal: Principal) -> list[RoutingRule]:
    query = select(RoutingRule).order_by(RoutingRule.category_code, RoutingRule.region_code.nulls_first())
    if (region := admin_region(principal)) is not None:
        query = query.where(RoutingRule.region_code.in_(region_codes_under(region)))
    return list((await session.scalars(query)).all())


async def save_routing_rule(session: AsyncSession, principal: Principal, *, category_code: str,
                            region_code: str | None, values: dict[str, Any]
                            ) -> tuple[RoutingRule, dict[str, Any] | None]:
    """Create or replace the rule of one category in one region (None: the category's default)."""
    await ensure_region(session, principal, region_code)
    if await session.get(Category, category_code) is None:
        raise InvalidInput(f"unknown category {category_code!r}")
    rule = await session.scalar(select(RoutingRule).where(
        RoutingRule.category_code == category_code,
        RoutingRule.region_code.is_(None) if region_code is None else RoutingRule.region_code == region_code
    ).with_for_update())
    before = None
    if rule is None:
        rule = RoutingRule(category_code=category_code, region_code=region_code, workers_needed=1,
                           department_kinds=[], radius_m=3000.0, own_grid_first=True, ack_timeout_s=60,
                           max_attempts=3)
        session.add(rule)
    else:
        before = snapshot(rule, RULE_FIELDS)
    for key, value in values.items():
        setattr(rule, key, value)
    await session.flush()
    return rule, before


async def delete_routing_rule(session: AsyncSession, principal: Principal, rule_id: int) -> dict[str, Any]:
    rule = await session.get(RoutingRule, rule_id, with_for_update=True)
    if rule is None:
        raise NotFound(f"no routing rule {rule_id}")
    await ensure_region(session, principal, rule.region_code)
    before = snapshot(rule, RULE_FIELDS)
    await session.delete(rule)
    await session.flush()
    return before


async def ensure_new_code(session: AsyncSession, code: str) -> None:
    if await session.scalar(select(Department.id).where(Department.code == code)):
        raise Conflict(f"department {code!r} exists")
