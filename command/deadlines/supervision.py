"""Manual supervision (督办): an operator or supervisor puts an incident under supervision before (or
regardless of) a deadline firing. It is the same `supervision.raised` event the scheduler appends when a
deadline goes overdue (command.deadlines.scheduler), with a person as actor, so the screens show it the same way."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from command.core.clock import utcnow
from command.core.errors import Conflict, InvalidInput
from command.core.events import Actor
from command.core.lifecycle import INCIDENT_TERMINAL
from command.core.models import Deadline, Event
from command.core.moves import lock_incident, record
from command.core.scoping import ensure_incident
from command.core.security import Principal
from command.deadlines.scheduler import supervisor_region

MANUAL_LEVEL = 1  # supervised by the region one level above the incident's, as the first scheduled stage


async def supervise(session: AsyncSession, *, incident_id: int, principal: Principal, reason: str) -> Event:
    """Record 督办 and raise the incident's most urgent open deadline to at least level 1.

    Without an open deadline the event alone says it (the wall lists supervised deadlines, the timeline
    every event). A closed, merged or cancelled incident has nothing left to supervise (409)."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput("reason must not be blank", details=[{"field": "reason"}])
    incident = await lock_incident(session, incident_id)
    ensure_incident(principal, incident)
    if incident.status in {str(s) for s in INCIDENT_TERMINAL}:
        raise Conflict(f"incident {incident_id} is {incident.status}: nothing to supervise")
    # The incident's own deadlines before a department order's; then the one due first.
    deadline = await session.scalar(
        select(Deadline).where(Deadline.incident_id == incident.id, Deadline.met_at.is_(None))
        .order_by(Deadline.order_id.is_not(None), Deadline.due_at, Deadline.id).limit(1)
        .with_for_update().execution_options(populate_existing=True)
    )
    level = MANUAL_LEVEL
    if deadline is not None:
        deadline.supervision_level = max(deadline.supervision_level, MANUAL_LEVEL)
        level = deadline.supervision_level
    now = utcnow()
    payload: dict[str, Any] = {"manual": True,
                     "supervision": {"level": level,
                                     "region_code": supervisor_region(list(incident.region_path or []), level)}}
    if deadline is not None:
        payload["deadline"] = {"id": deadline.id, "kind": deadline.kind, "order_id": deadline.order_id,
                               "due_at": deadline.due_at.isoformat(),
                               "remaining_s": int((deadline.due_at - now).total_seconds()),
                               "supervision_level": deadline.supervision_level}
    await session.flush()
    return await record(session, incident=incident, actor=Actor(name=principal.username, user_id=principal.user_id),
                        kind="supervision.raised", reason=reason, payload=payload)
