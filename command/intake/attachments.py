"""Photos attached to an incident when it is reported (a resident's request, a worker's patrol finding).

They are recorded as an `incident.photos` event, the way work orders keep theirs (command.orders.uploads)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from command.core.events import Actor
from command.core.models import Event, Incident
from command.core.moves import record
from command.orders.uploads import attach_uploads


async def attach_photos(session: AsyncSession, *, incident: Incident, photos: Sequence[str],
                        actor: Actor, uploaded_by: int | None) -> Event | None:
    """Attach `uploaded_by`'s uploads to the incident and record them on it (nothing when there are none)."""
    photo_ids = await attach_uploads(session, photos=photos, uploaded_by=uploaded_by, incident_id=incident.id)
    if not photo_ids:
        return None
    return await record(session, incident=incident, actor=actor, kind="incident.photos",
                        payload={"photos": photo_ids})
