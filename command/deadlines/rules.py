"""Time limits: built-in defaults (DOMAIN.md) overridden by rows of `deadline_rules`.

A limit is looked up by kind (sign_for, respond, feedback, resolve) for an incident's category,
region chain, channel and priority. Among matching rules the deepest region wins; on the same
region a rule naming the category beats one naming the channel, which beats one naming the
priority; a table row beats a built-in default of the same specificity.

Built-in defaults (documented in docs and the report):
- sign for (签收) a department work order: P1 30 min, P2 2 h, P3 and lower 24 h;
- respond to a resident request (counter, app, hotline, terminal): the same day (当天响应);
- resolve: 5 working days (原则上5天内办结); a grid worker's patrol finding: 24 h;
- petitions (category `petition`, 信访): meet in 3 working days, feedback in 5, resolve in 15.

A limit is in seconds (`limit_s`), the same day, or in China's working days (`limit_workdays`, counted on the
calendar of the incident's place: command.deadlines.workdays with its overrides).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from command.core import refdata
from command.core.models import DeadlineRule
from command.deadlines.workdays import NATIONAL, WorkCalendar, for_region

HOUR, DAY = 3600, 86400
RESIDENT_CHANNELS = ("counter", "app", "hotline", "terminal")
PETITION_CATEGORY = "petition"


@dataclass(frozen=True, slots=True)
class Limit:
    kind: str
    limit_s: int | None = None
    same_day: bool = False
    remind_before_s: int = 0
    category_code: str | None = None
    region_code: str | None = None
    channel: str | None = None
    priority: int | None = None
    source: str = "default"
    limit_workdays: int | None = None

    def due(self, start: datetime, tz: ZoneInfo, calendar: WorkCalendar = NATIONAL) -> datetime:
        if self.same_day:
            local_day = start.astimezone(tz).date()
            return datetime.combine(local_day, time(23, 59, 59), tz)
        if self.limit_workdays is not None:
            return calendar.add_workdays(start, self.limit_workdays, tz)
        assert self.limit_s is not None
        return start + timedelta(seconds=self.limit_s)

    def remind_at(self, start: datetime, due: datetime) -> datetime | None:
        """A reminder (催办) this long before the deadline, unless that is before the start."""
        if self.remind_before_s <= 0:
            return None
        at = due - timedelta(seconds=self.remind_before_s)
        return at if at > start else None


DEFAULTS: tuple[Limit, ...] = (
    Limit("sign_for", 24 * HOUR, remind_before_s=4 * HOUR),
    Limit("sign_for", 30 * 60, remind_before_s=10 * 60, priority=1),
    Limit("sign_for", 2 * HOUR, remind_before_s=30 * 60, priority=2),
    *(Limit("respond", same_day=True, remind_before_s=2 * HOUR, channel=c) for c in RESIDENT_CHANNELS),
    Limit("resolve", remind_before_s=DAY, limit_workdays=5),
    Limit("resolve", DAY, remind_before_s=4 * HOUR, channel="patrol"),
    Limit("respond", remind_before_s=DAY, category_code=PETITION_CATEGORY, limit_workdays=3),
    Limit("feedback", remind_before_s=DAY, category_code=PETITION_CATEGORY, limit_workdays=5),
    Limit("resolve", remind_before_s=2 * DAY, category_code=PETITION_CATEGORY, limit_workdays=15),
)


def _specificity(limit: Limit, region_path: Sequence[str]) -> tuple[int, int, int, int, int]:
    depth = region_path.index(limit.region_code) if limit.region_code else -1
    return (depth, limit.category_code is not None, limit.channel is not None, limit.priority is not None,
            limit.source != "default")


def pick(
    candidates: Sequence[Limit],
    *,
    kind: str,
    category_code: str,
    region_path: Sequence[str],
    channel: str | None,
    priority: int | None,
) -> Limit | None:
    """The most specific matching limit, or None when no limit applies."""
    matching = [
        c for c in candidates
        if c.kind == kind
        and (c.category_code is None or c.category_code == category_code)
        and (c.region_code is None or c.region_code in region_path)
        and (c.channel is None or c.channel == channel)
        and (c.priority is None or c.priority == priority)
    ]
    if not matching:
        return None
    return max(matching, key=lambda c: _specificity(c, region_path))


def from_row(row: DeadlineRule | Any) -> Limit:
    return Limit(
        kind=row.kind, limit_s=row.limit_s, same_day=row.same_day, remind_before_s=row.remind_before_s,
        category_code=row.category_code, region_code=row.region_code, channel=row.channel,
        priority=row.priority, source=f"rule:{row.id}", limit_workdays=getattr(row, "limit_workdays", None),
    )


async def limit_for(
    session: AsyncSession,
    *,
    kind: str,
    category_code: str,
    region_path: Sequence[str],
    channel: str | None = None,
    priority: int | None = None,
) -> Limit | None:
    rows = [r for r in await refdata.deadline_rules(session)
            if r.kind == kind and (r.category_code is None or r.category_code == category_code)]
    candidates = [*DEFAULTS, *(from_row(r) for r in rows)]
    return pick(candidates, kind=kind, category_code=category_code, region_path=region_path,
                channel=channel, priority=priority)


async def calendar_for(session: AsyncSession, region_path: Sequence[str]) -> WorkCalendar:
    """The working-day calendar in force at a place: the national one with the overrides of its region chain."""
    return for_region(await refdata.calendar_overrides(session), region_path)


async def due_for(session: AsyncSession, limit: Limit, start: datetime, tz: ZoneInfo,
                  region_path: Sequence[str]) -> datetime:
    """A limit's deadline; a limit in working days reads the place's calendar (cached reference data)."""
    if limit.limit_workdays is None:
        return limit.due(start, tz)
    return limit.due(start, tz, await calendar_for(session, region_path))
