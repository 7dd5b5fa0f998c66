"""Deadline rules (in working days or hours) and the working-day calendar's local overrides on the admin console.
A region admin writes rules and overrides for regions inside their own; region-less ones are installation-wide."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from command.admin.admin_scope import admin_region, ensure_region, region_codes_under, region_path
from command.admin.audit import snapshot
from command.core.errors import InvalidInput, NotFound
from command.core.models import CalendarOverride, Category, DeadlineRule
from command.core.security import Principal
from command.deadlines.rules import calendar_for
from command.deadlines.workdays import COVERED_YEARS, Day

RULE_FIELDS = ("kind", "category_code", "region_code", "channel", "priority", "limit_s", "limit_workdays",
               "same_day", "remind_before_s", "note")
OVERRIDE_FIELDS = ("day", "region_code", "workday", "note")


async def deadline_rules(session: AsyncSession, principal: Principal) -> list[DeadlineRule]:
    query = select(DeadlineRule).order_by(DeadlineRule.id)
    if (region := admin_region(principal)) is not None:
        query = query.where(DeadlineRule.region_code.in_(region_codes_under(region)))
    return list((await session.scalars(query)).all())


async def add_deadline_rule(session: AsyncSession, principal: Principal, values: dict[str, Any]) -> DeadlineRule:
    given = [values.get("same_day") is True, values.get("limit_s") is not None,
             values.get("limit_workdays") is not None]
    if given.count(True) != 1:
        raise InvalidInput("give exactly one of limit_workdays, limit_s (hours) or same_day")
    await ensure_region(session, principal, values.get("region_code"))
    if (code := values.get("category_code")) is not None and await session.get(Category, code) is None:
        raise InvalidInput(f"unknown category {code!r}")
    rule = DeadlineRule(**values)
    session.add(rule)
    await session.flush()
    return rule


async def delete_deadline_rule(session: AsyncSession, principal: Principal, rule_id: int) -> DeadlineRule:
    rule = await session.get(DeadlineRule, rule_id, with_for_update=True)
    if rule is None:
        raise NotFound(f"no deadline rule {rule_id}")
    await ensure_region(session, principal, rule.region_code)
    await session.delete(rule)
    await session.flush()
    return rule


async def overrides(session: AsyncSession, principal: Principal, *, year: int | None = None
                    ) -> list[CalendarOverride]:
    query = select(CalendarOverride).order_by(CalendarOverride.day, CalendarOverride.region_code.nulls_first())
    if (region := admin_region(principal)) is not None:
        query = query.where(or_(CalendarOverride.region_code.is_(None),
                                CalendarOverride.region_code.in_(region_codes_under(region))))
    if year is not None:
        query = query.where(CalendarOverride.day >= date(year, 1, 1), CalendarOverride.day < date(year + 1, 1, 1))
    return list((await session.scalars(query)).all())


async def set_override(session: AsyncSession, principal: Principal, *, day: date, region_code: str | None,
                       workday: bool, note: str | None) -> tuple[CalendarOverride, dict[str, Any] | None]:
    """Create or change the override of one day for one region (None: installation-wide)."""
    await ensure_region(session, principal, region_code)
    row = await session.scalar(select(CalendarOverride).where(
        CalendarOverride.day == day,
        CalendarOverride.region_code.is_(None) if region_code is None else CalendarOverride.region_code == region_code
    ).with_for_update())
    before = None
    if row is None:
        row = CalendarOverride(day=day, region_code=region_code)
        session.add(row)
    else:
        before = snapshot(row, OVERRIDE_FIELDS)
    row.workday, row.note = workday, note
    await session.flush()
    return row, before


async def delete_override(session: AsyncSession, principal: Principal, override_id: int) -> CalendarOverride:
    row = await session.get(CalendarOverride, override_id, with_for_update=True)
    if row is None:
        raise NotFound(f"no calendar override {override_id}")
    await ensure_region(session, principal, row.region_code)
    await session.delete(row)
    await session.flush()
    return row


async def calendar_month(session: AsyncSession, principal: Principal, *, year: int, month: int,
                         region_code: str | None) -> dict[str, Any]:
    """The calendar in force for a region (or the installation) in one month, day by day."""
    path: list[str] = []
    if region_code is not None:
        path = await region_path(session, region_code)
    elif (own := admin_region(principal)) is not None:
        path = await region_path(session, own)
    calendar = await calendar_for(session, path)

    def out(d: Day) -> dict[str, Any]:
        return {"day": d.day.isoformat(), "workday": d.workday, "source": d.source, "name": d.name}

    return {"year": year, "month": month, "region_code": path[-1] if path else None,
            "covered": year in COVERED_YEARS, "covered_years": [min(COVERED_YEARS), max(COVERED_YEARS)],
            "days": [out(d) for d in calendar.month(year, month)]}
