"""The append-only event log (PostgreSQL).

Every state change calls `append_event` inside the transaction that makes the change. The events are kept on the
session (`take_pending`); once the owner of the transaction has committed, command.realtime.publish hands them to the
Redis stream the WebSocket hubs of every process read (docs/realtime.md)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from command.core.models import Event, Incident, Order
from pgnative.orm import flush_column_changes
from pgnative.statements import Native

log = logging.getLogger(__name__)

_PENDING = "gridcmd_pending_events"
_BATCHED = "gridcmd_events_batched"


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
    route: tuple[list[str], int | None, str | None] | None = None,
) -> Event:
    """Append one event (flushes to get its id, except inside `batched`; never commits).

    `route` (region path, worker id, department code) addresses an event about no incident or order, such as a
    notice, to the sockets that should see it (command.admin.notices)."""
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
    if route is not None:
        event.region_path, event.worker_id, event.department_code = route
    queue = session.info.get(_BATCHED)
    if queue is not None:
        queue.append(event)  # written by `batched` on leaving, in one native INSERT
    else:
        session.add(event)
        await session.flush()
    session.info.setdefault(_PENDING, []).append(event)
    return event


async def flush_unless_batched(session: AsyncSession) -> None:
    """The flush a state move or an event makes so the caller sees ids at once; deferred inside `batched`."""
    if session.info.get(_BATCHED) is None:
        await session.flush()


@asynccontextmanager
async def batched(session: AsyncSession) -> AsyncIterator[None]:
    """Within, events and state moves are not flushed one by one. On leaving normally, the session is flushed
    (the incident's moves by `flush_column_changes`, the rest by the unit of work) and then the events appended
    within are written by one native multi-row `INSERT … RETURNING` (their ids, txid and created_at come back
    with it, set on the Event objects): callers
    see ids as before. Inside, nothing may read an event's id, and the events are not in the session (a query
    inside does not see them). If the block raises, its events are handed to the session instead, so that a
    caller who catches the error and commits writes them exactly as an unbatched append would have."""
    if session.info.get(_BATCHED) is not None:
        yield
        return
    queue: list[Event] = []
    session.info[_BATCHED] = queue
    try:
        yield
    except BaseException:
        session.add_all(queue)
        raise
    finally:
        session.info.pop(_BATCHED, None)
    await flush_column_changes(session, Incident)  # the incident's moves, without the unit of work
    await session.flush()
    await insert_events(session, queue)


# Rows as one JSON document: one prepared statement whatever the number of events; ids are taken from the
# sequence in the document's order (ORDER BY n), and matched back by sorting the returned ids.
_COLUMNS = ("kind", "incident_id", "order_id", "actor_user_id", "actor", "from_state", "to_state", "reason",
            "region_path", "worker_id", "department_code", "payload")
_INSERT_EVENTS = Native(f"""
INSERT INTO events ({", ".join(_COLUMNS)})
SELECT {", ".join(_COLUMNS)}
FROM ROWS FROM (jsonb_to_recordset(CAST(:rows AS jsonb)) AS (
  kind varchar, incident_id bigint, order_id bigint, actor_user_id integer, actor varchar, from_state varchar,
  to_state varchar, reason text, region_path varchar[], worker_id integer, department_code varchar, payload jsonb
)) WITH ORDINALITY AS t({", ".join(_COLUMNS)}, n)
ORDER BY n
RETURNING id, txid, created_at
""")


async def insert_events(session: AsyncSession, events: Sequence[Event]) -> None:
    """Write events that are not in the session, in order, and set their id, txid and created_at."""
    if not events:
        return
    doc = orjson.dumps([{c: getattr(e, c) for c in _COLUMNS} for e in events], option=orjson.OPT_NON_STR_KEYS)
    rows = sorted(await _INSERT_EVENTS.fetch(session, rows=doc.decode()), key=lambda r: r[0])
    for event, (event_id, txid, created_at) in zip(events, rows, strict=True):
        event.id, event.txid, event.created_at = event_id, txid, created_at


def take_pending(session: AsyncSession) -> list[Event]:
    """The events appended in this session since the last call (to publish after commit)."""
    pending: list[Event] = session.info.pop(_PENDING, [])
    return pending
