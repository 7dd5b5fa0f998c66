"""The append-only event log (PostgreSQL) and its hand-off to the live stream (Redis).

Every state change calls `append_event` inside the transaction that makes the change. The events
are kept on the session; once the owner of the transaction has committed it calls
`publish_committed(redis, session)` so the WebSocket hubs of every process see them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from command.models import Event, Incident, Order

_PENDING = "gridcmd_pending_events"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who made a change: a user, or a named system part (intake, sweeper, scheduler…)."""

    name: str
    user_id: int | None = None

    @classmethod
    def system(cls, part: str) -> Actor:
        return cls(name=f"system:{part}")


async def append_event(
    session: AsyncSession,
    *,
    kind: str,
    actor: Actor,
    incident: Incident | None = None,
    order: Order | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
    reason: str | None = None,
    payload: dict[str, Any] | None = None,
) -> Event:
    """Append one event (flushes to get its id; never commits)."""
    event = Event(
        kind=kind,
        incident_id=incident.id if incident is not None else None,
        order_id=order.id if order is not None else None,
        actor=actor.name,
        actor_user_id=actor.user_id,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        region_path=list(incident.region_path or []) if incident is not None else [],
        worker_id=order.worker_id if order is not None else None,
        department_code=order.department_code if order is not None else None,
        payload=payload or {},
    )
    session.add(event)
    await session.flush()
    session.info.setdefault(_PENDING, []).append(event)
    return event


def take_pending(session: AsyncSession) -> list[Event]:
    """The events appended in this session since the last call (to publish after commit)."""
    return session.info.pop(_PENDING, [])
