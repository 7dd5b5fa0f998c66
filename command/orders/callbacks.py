"""Callbacks and satisfaction (回访, 满意度): after resolution the resident rates through their tracking
link or an operator records a phone callback. 不满意 can reopen the incident (counted by its event)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from command.core.errors import Conflict, IllegalTransition, InvalidInput
from command.core.events import Actor
from command.core.lifecycle import IncidentStatus
from command.core.models import Callback
from command.core.moves import lock_incident, move_incident, record
from command.deadlines.deadlines import restart_resolve

RATINGS = ("satisfied", "basically_satisfied", "dissatisfied")  # 满意 / 基本满意 / 不满意
RATEABLE = (IncidentStatus.resolved, IncidentStatus.verified, IncidentStatus.callback_done, IncidentStatus.closed)


async def rate(
    session: AsyncSession,
    *,
    incident_id: int,
    rating: str,
    via: str,
    actor: Actor,
    tz: ZoneInfo,
    comment: str | None = None,
    reopen: bool = True,
) -> Callback:
    """Record a rating; a satisfied rating of a verified incident completes its callback (回访)."""
    if rating not in RATINGS:
        raise InvalidInput(f"rating must be one of {', '.join(RATINGS)}")
    if via not in ("link", "phone"):
        raise InvalidInput("via must be link or phone")
    if comment is not None and len(comment) > 1000:
        raise InvalidInput("the comment is longer than 1000 characters")
    incident = await lock_incident(session, incident_id)
    if incident.status not in RATEABLE:
        raise IllegalTransition(f"an incident can be rated once it is resolved; this one is {incident.status}")
    if via == "link":
        # One resident rating per resolution: a reopened and re-resolved incident can be rated again.
        already = await session.scalar(select(Callback.id).where(
            Callback.incident_id == incident.id, Callback.via == "link", Callback.created_at >= incident.resolved_at))
        if already is not None:
            raise Conflict("this result has already been rated")
    callback = Callback(incident_id=incident.id, rating=rating, via=via, comment=comment,
                        recorded_by=actor.user_id)
    session.add(callback)
    await session.flush()
    await record(session, incident=incident, actor=actor, kind="incident.rated", reason=comment,
                 payload={"callback": {"id": callback.id, "rating": rating, "via": via}})
    if rating == "dissatisfied" and reopen:
        callback.reopened = True
        await move_incident(session, incident=incident, to=IncidentStatus.reopened, actor=actor,
                            kind="incident.reopened", reason=f"不满意 ({via}): {comment or ''}".strip())
        await restart_resolve(session, incident=incident, tz=tz)
    elif incident.status == IncidentStatus.verified:
        await move_incident(session, incident=incident, to=IncidentStatus.callback_done, actor=actor,
                            kind="incident.callback", reason=f"{rating} ({via})")
    await session.flush()
    return callback
