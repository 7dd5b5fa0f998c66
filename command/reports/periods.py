"""Report periods in local days: day, week (Monday first), half-month (1st–15th, 16th–end), month, quarter, year,
or a range of whole days; each with the period before it (the trend's baseline). End dates are exclusive."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from command.core.errors import InvalidInput

KINDS = ("day", "week", "half_month", "month", "quarter", "year", "range")
MAX_RANGE_DAYS = 400


@dataclass(frozen=True)
class Period:
    kind: str
    start: date
    end: date  # exclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def bounds(self, tz: str) -> tuple[datetime, datetime]:
        """The period as instants: local midnight of its first day to local midnight after its last."""
        z = ZoneInfo(tz)
        return datetime.combine(self.start, time(), z), datetime.combine(self.end, time(), z)

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "start": self.start.isoformat(), "end": self.end.isoformat(),
                "last_day": (self.end - timedelta(days=1)).isoformat()}


def _month_start(d: date, months: int = 0) -> date:
    m = d.year * 12 + d.month - 1 + months
    return date(m // 12, m % 12 + 1, 1)


def period_of(kind: str, day: date, until: date | None = None) -> Period:
    """The period of `kind` that contains `day`; for a range, `day` to `until` inclusive."""
    if kind not in KINDS:
        raise InvalidInput(f"period must be one of {', '.join(KINDS)}", details=[{"field": "period"}])
    if kind == "range":
        if until is None or until < day:
            raise InvalidInput("a range needs 'to' on or after 'date'", details=[{"field": "to"}])
        if (until - day).days >= MAX_RANGE_DAYS:
            raise InvalidInput(f"at most {MAX_RANGE_DAYS} days per range", details=[{"field": "to"}])
        return Period(kind, day, until + timedelta(days=1))
    if kind == "day":
        return Period(kind, day, day + timedelta(days=1))
    if kind == "week":
        start = day - timedelta(days=day.weekday())
        return Period(kind, start, start + timedelta(days=7))
    if kind == "half_month":
        if day.day <= 15:
            return Period(kind, day.replace(day=1), day.replace(day=16))
        return Period(kind, day.replace(day=16), _month_start(day, 1))
    if kind == "month":
        return Period(kind, _month_start(day), _month_start(day, 1))
    if kind == "quarter":
        first = date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
        return Period(kind, first, _month_start(first, 3))
    return Period(kind, date(day.year, 1, 1), date(day.year + 1, 1, 1))


def previous(p: Period) -> Period:
    """The period just before: the previous one of the same kind, or a range of the same length."""
    if p.kind == "range":
        return Period("range", p.start - timedelta(days=p.days), p.start)
    return period_of(p.kind, p.start - timedelta(days=1))
