"""The closed loop's step in intake (command.intake.intake calls it once a new incident is located, before
dispatch): a duplicate of an open incident is linked or merged (command.intake.duplicates), otherwise the
incident's deadlines are scheduled (command.deadlines.deadlines)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from command.core.events import Actor
from command.core.models import Incident
from command.core.settings import Settings
from command.deadlines.deadlines import schedule_incident
from command.intake.duplicates import find_duplicate, link_or_merge


async def after_located(session: AsyncSession, *, incident: Incident, settings: Settings, actor: Actor) -> bool:
    """True when the incident was merged into an open one and must not be dispatched."""
    original = await find_duplicate(
        session, category_code=incident.category_code, lon=incident.lon, lat=incident.lat, at=incident.created_at,
        distance_m=settings.duplicate_distance_m, window_s=settings.duplicate_window_s, exclude_id=incident.id)
    if original is not None and await link_or_merge(session, incident=incident, original=original, actor=actor):
        return True
    await schedule_incident(session, incident=incident, tz=ZoneInfo(settings.timezone))
    return False
