"""China's working-day calendar (工作日): weekends and public holidays are off, the adjusted working Saturdays and
Sundays (调休上班) count, from the `chinesecalendar` package (the State Council's yearly schedule, 国务院办公厅
节假日安排; release 1.11.0 covers 2004–2026), with local overrides (`calendar_overrides`) on top.

A limit of N working days starts the day after the start (the start day does not count, as in 期间开始的当日不计入)
and ends at the close (23:59:59 local) of the Nth working day. A year the package does not cover yet falls back to
Monday–Friday until its schedule is published; administrators add its holidays as overrides meanwhile."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import chinese_calendar

# Years the package knows (its own table of holidays and 调休 days).
COVERED_YEARS: frozenset[int] = frozenset(d.year for d in chinese_calendar.holidays) & frozenset(
    d.year for d in chinese_calendar.workdays)
MAX_WORKDAYS = 366


@dataclass(frozen=True, slots=True)
class Day:
    day: date
    workday: bool
    source: str  # override | holiday | adjusted (调休上班) | weekend | weekday | uncovered
    name: str | None = None


@functools.lru_cache(maxsize=8192)
def official(day: date) -> Day:
    """The day as the national schedule (or, outside the covered years, the plain week) says. Cached: the
    package's lookup costs ~0.1 ms a day, and every alert's limits in working days walk a week or three."""
    if day.year not in COVERED_YEARS:
        return Day(day, day.weekday() < 5, "uncovered")
    on_holiday, name = chinese_calendar.get_holiday_detail(day)
    if on_holiday:
        return Day(day, False, "holiday" if name else "weekend", name)
    if day.weekday() >= 5:
        return Day(day, True, "adjusted", name)
    return Day(day, True, "weekday")


@dataclass(frozen=True, slots=True)
class WorkCalendar:
    """The calendar in force for one place: the national one plus its overrides (day → working or not)."""

    overrides: Mapping[date, tuple[bool, str | None]] = field(default_factory=dict)

    def day(self, day: date) -> Day:
        if (hit := self.overrides.get(day)) is not None:
            return Day(day, hit[0], "override", hit[1])
        return official(day)

    def is_workday(self, day: date) -> bool:
        return self.day(day).workday

    def add_workdays(self, start: datetime, n: int, tz: ZoneInfo) -> datetime:
        """The close of the Nth working day after the start's local day."""
        if not 0 < n <= MAX_WORKDAYS:
            raise ValueError(f"working days must be 1..{MAX_WORKDAYS}, not {n}")
        day = start.astimezone(tz).date()
        left = n
        while left:
            day += timedelta(days=1)
            if self.is_workday(day):
                left -= 1
        return datetime.combine(day, time(23, 59, 59), tz)

    def month(self, year: int, month: int) -> list[Day]:
        first = date(year, month, 1)
        days = []
        d = first
        while d.month == month:
            days.append(self.day(d))
            d += timedelta(days=1)
        return days


NATIONAL = WorkCalendar()


def for_region(rows: Iterable[Any], region_path: Sequence[str]) -> WorkCalendar:
    """The calendar of a place from override rows (day, region_code, workday, note): installation-wide rows
    first, then the rows of each region on its chain from the top, so the deepest region's word is last."""
    depth = {code: i for i, code in enumerate(region_path)}
    chosen: dict[date, tuple[int, bool, str | None]] = {}
    for r in rows:
        level = -1 if r.region_code is None else depth.get(r.region_code)
        if level is None:
            continue
        if r.day not in chosen or chosen[r.day][0] <= level:
            chosen[r.day] = (level, r.workday, r.note)
    if not chosen:
        return NATIONAL
    return WorkCalendar({d: (v[1], v[2]) for d, v in chosen.items()})
