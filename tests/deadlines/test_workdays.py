"""China's working-day calendar: limits in working days across the Spring Festival and National Day of 2025 and
2026 and the adjusted working weekends (调休), checked against the State Council's schedules (国务院办公厅关于
2025年/2026年部分节假日安排的通知), and the local override table (installation-wide and per region)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from command.core.models import CalendarOverride, Deadline, DeadlineRule
from command.deadlines.deadlines import schedule_incident
from command.deadlines.rules import Limit, calendar_for
from command.deadlines.workdays import COVERED_YEARS, NATIONAL, for_region, official
from tests import loop_world as w

TZ = ZoneInfo("Asia/Shanghai")
PATH = ["D1", "D1S1", "D1S1C1", "D1S1C1G1"]



@pytest.fixture(scope="module", autouse=True)
async def _empty(engine: AsyncEngine) -> None:
    """Start from empty tables (other modules commit rows); the session test then rolls back."""
    await w.truncate(engine)


# (start local date, working days, the day the limit ends, why)
CASES = [
    ("2026-09-30", 5, "2026-10-13", "国庆 10/1-7 off, Sat 10/10 worked, Sun 10/11 off"),
    ("2026-09-30", 1, "2026-10-08", "first day after National Day 2026"),
    ("2026-09-18", 3, "2026-09-22", "Sun 9/20 worked (调休) before National Day 2026"),
    ("2026-02-12", 5, "2026-02-26", "Sat 2/14 worked, 春节 2/15-23 off"),
    ("2026-02-13", 15, "2026-03-12", "a petition's 15 days over Spring Festival 2026, Sat 2/28 worked"),
    ("2025-01-24", 5, "2025-02-07", "Sun 1/26 worked, 春节 1/28-2/4 off"),
    ("2025-02-06", 3, "2025-02-10", "Sat 2/8 worked after Spring Festival 2025"),
    ("2025-09-26", 5, "2025-10-10", "Sun 9/28 worked, 国庆中秋 10/1-8 off"),
    ("2025-10-09", 2, "2025-10-11", "Sat 10/11 worked after National Day 2025"),
    ("2026-04-30", 4, "2026-05-09", "劳动节 5/1-5 off, Sat 5/9 worked"),
    ("2025-12-31", 1, "2026-01-04", "元旦 2026 1/1-3 off, Sun 1/4 worked"),
]


def _start(day: str, hour: int = 10) -> datetime:
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), TZ).replace(hour=hour)


@pytest.mark.parametrize(("start", "n", "end", "why"), CASES, ids=[f"{c[0]}+{c[1]}" for c in CASES])
def test_official_schedule(start: str, n: int, end: str, why: str) -> None:
    due = Limit("resolve", limit_workdays=n).due(_start(start).astimezone(UTC), TZ)
    assert due == datetime.combine(date.fromisoformat(end), datetime.max.time(), TZ).replace(microsecond=0), why


def test_local_day_decides_the_start() -> None:
    # 2026-09-29 17:00 UTC is already 09-30 01:00 in Shanghai: counting starts after the 30th.
    assert NATIONAL.add_workdays(datetime(2026, 9, 29, 17, 0, tzinfo=UTC), 5, TZ).date() == date(2026, 10, 13)
    assert NATIONAL.add_workdays(datetime(2026, 9, 29, 15, 0, tzinfo=UTC), 5, TZ).date() == date(2026, 10, 12)


def test_days_named_and_uncovered_years() -> None:
    assert 2025 in COVERED_YEARS and 2026 in COVERED_YEARS
    assert official(date(2026, 10, 10)).source == "adjusted"
    assert official(date(2026, 2, 17)).source == "holiday" and official(date(2026, 2, 17)).name == "Spring Festival"
    assert official(date(2026, 10, 11)).source == "weekend"
    # A year not yet published falls back to Monday-Friday (overrides fill its holidays).
    assert official(date(2099, 1, 1)) == official(date(2099, 1, 1)).__class__(date(2099, 1, 1), True, "uncovered")
    with pytest.raises(ValueError):
        NATIONAL.add_workdays(_start("2026-01-05"), 0, TZ)


def _row(day: str, workday: bool, region: str | None) -> SimpleNamespace:
    return SimpleNamespace(day=date.fromisoformat(day), workday=workday, region_code=region, note=None)


def test_overrides_installation_and_region() -> None:
    rows = [_row("2026-10-08", False, None),            # installation-wide local day off
            _row("2026-10-11", True, "D1S1"),            # a street works that Sunday
            _row("2026-10-08", True, "D1S1C1"),          # ... and a community keeps the 8th a working day
            _row("2026-10-09", False, "D2")]             # another district's day off: not on our chain
    start = _start("2026-09-30")
    assert for_region(rows, ["D2"]).add_workdays(start, 5, TZ).date() == date(2026, 10, 15)
    assert for_region(rows, ["D1"]).add_workdays(start, 5, TZ).date() == date(2026, 10, 14)
    # street: 10/9, 10/10, 10/11, 10/12, 10/13 (the 8th off installation-wide)
    assert for_region(rows, PATH[:2]).add_workdays(start, 5, TZ).date() == date(2026, 10, 13)
    # community: deeper word wins for the 8th → 8, 9, 10, 11, 12
    assert for_region(rows, PATH).add_workdays(start, 5, TZ).date() == date(2026, 10, 12)
    assert for_region([], PATH) is NATIONAL


async def test_rule_in_working_days_schedules_with_overrides(session: AsyncSession) -> None:
    await w.build(session)
    session.add(DeadlineRule(kind="resolve", category_code="road", region_code="D1S1", limit_workdays=5))
    session.add(CalendarOverride(day=date(2026, 10, 8), region_code="D1", workday=False, note="区级调休"))
    await session.flush()
    assert (await calendar_for(session, PATH)).day(date(2026, 10, 8)).source == "override"
    inc = await w.incident(session, created_at=_start("2026-09-30").astimezone(UTC))
    await schedule_incident(session, incident=inc, tz=TZ)
    due = await session.scalar(select(Deadline.due_at).where(Deadline.incident_id == inc.id,
                                                             Deadline.kind == "resolve"))
    assert due == inc.resolve_due_at == datetime(2026, 10, 14, 23, 59, 59, tzinfo=TZ)
    # a petition's default 15 working days, on the same calendar (the 8th off in D1): 10/9 … 10/28
    other = await w.incident(session, category="petition", created_at=_start("2026-09-30").astimezone(UTC))
    await schedule_incident(session, incident=other, tz=TZ)
    assert other.resolve_due_at == datetime(2026, 10, 28, 23, 59, 59, tzinfo=TZ)
