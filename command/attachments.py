"""Photos attached to an incident when it is reported (a resident's request, a worker's patrol finding).

They are recorded as an `incident.photos` event, the way work orders keep theirs (command.uploads)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from command.events import Actor
from command.models import Event, Incident
from command.moves import record
from command.uploads import check_photos


async def attach_photos(session: AsyncSession, *, incident: Incident, photos: Sequence[str],
                        actor: Actor) -> Event | None:
    """Check the upload ids and record them on the incident (nothing when there are none)."""
    photo_ids = await check_photos(session, photos)
    if not photo_ids:
        return None
    return await record(session, incident=incident, actor=actor, kind="incident.photos",
                        payload={"photos": photo_ids})
