"""Time helpers: the one `utcnow` every service stamps with, and local calendar boundaries (the installation's
time zone, GRIDCMD_TIMEZONE). Timestamps are aware and in UTC inside; local time only at the edge."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    return datetime.now(UTC)


def local_midnight(now: datetime, tz: str) -> datetime:
    """The start of `now`'s day in time zone `tz` (an aware datetime in that zone)."""
    local = now.astimezone(ZoneInfo(tz))
    return local.replace(hour=0, minute=0, second=0, microsecond=0)
