"""Fires deadlines: a reminder (催办) before, overdue after, supervision (督办) one level up the region
chain, and one more level each `supervision_escalate_s` while it stays overdue.

Safe with any number of processes: each stage is claimed with `SELECT … FOR UPDATE SKIP LOCKED`
and its timestamp (reminded_at, overdue_at, next_escalation_at) is set in the transaction that
appends its event. A process that dies before commit releases the rows and another fires them;
once committed, the stage no longer matches the claim. So each stage fires exactly once."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from command.core.events import Actor
from command.core.lifecycle import ORDER_OFFERED, IncidentStatus
from command.core.models import Deadline, Event, Incident, Order
from command.core.moves import record

ACTOR = Actor.system("scheduler")
# Which process fired an event (for operations, and for the tests that run several schedulers).
FIRED_BY = f"{socket.gethostname()}:{os.getpid()}"
_I = IncidentStatus
_RESOLVED = {str(s) for s in (_I.resolved, _I.verified, _I.callback_done, _I.closed, _I.merged, _I.cancelled)}
_RESPONDED = _RESOLVED | {str(_I.in_progress)}
_OFFERED = {str(s) for s in ORDER_OFFERED}
_ORDER_FINISHED = {"done", "declined", "returned", "timed_out", "cancelled"}


@dataclass
class Fired:
    reminders: int = 0
    overdue: int = 0
    supervision: int = 0
    met: int = 0
    ids: list[tuple[int, str]] = field(default_factory=list)  # (deadline id, stage), for tests and logs


def _met(d: Deadline, incident: Incident, order: Order | None, has_progress: bool) -> bool:
    """Is the obligation behind this deadline already fulfilled (or moot)?"""
    status = incident.status
    if status in (_I.merged, _I.cancelled):
        return True
    if d.kind == "sign_for":
        return order is None or order.accepted_at is not None or order.status not in _OFFERED
    if d.kind == "respond":
        return status in _RESPONDED
    if d.kind == "feedback":
        return has_progress or status in _RESOLVED
    if order is not None:  # a department's own resolve deadline
        return order.status in _ORDER_FINISHED
    return status in _RESOLVED


def supervisor_region(region_path: list[str], level: int) -> str | None:
    """The region `level` steps above the incident's own (None above the top)."""
    idx = len(region_path) - 1 - level
    return region_path[idx] if idx >= 0 else None


Claimed = list[tuple[Deadline, Incident, Order | None]]


async def _claim(session: AsyncSession, condition: ColumnElement[bool],
                 order_by: ColumnElement[Any] | QueryableAttribute[Any], batch: int) -> Claimed:
    rows = list(await session.scalars(
        select(Deadline).where(Deadline.met_at.is_(None), condition).order_by(order_by, Deadline.id)
        .limit(batch).with_for_update(skip_locked=True).execution_options(populate_existing=True)
    ))
    if not rows:
        return []
    incidents = {i.id: i for i in await session.scalars(
        select(Incident).where(Incident.id.in_({d.incident_id for d in rows})))}
    order_ids = {d.order_id for d in rows if d.order_id is not None}
    orders = {o.id: o for o in await session.scalars(select(Order).where(Order.id.in_(order_ids)))} if order_ids else {}
    return [(d, incidents[d.incident_id], orders.get(d.order_id) if d.order_id else None) for d in rows]


async def _with_progress(session: AsyncSession, incident_ids: set[int]) -> set[int]:
    if not incident_ids:
        return set()
    return set(await session.scalars(
        select(Event.incident_id).where(Event.incident_id.in_(incident_ids), Event.kind == "order.progress").distinct()
    ))


def _deadline_payload(d: Deadline, now: datetime) -> dict[str, Any]:
    return {"deadline": {"id": d.id, "kind": d.kind, "order_id": d.order_id, "due_at": d.due_at.isoformat(),
                         "remaining_s": int((d.due_at - now).total_seconds()),
                         "supervision_level": d.supervision_level},
            "fired_by": FIRED_BY}


async def fire_due(session: AsyncSession, *, now: datetime, batch: int, escalate_s: int) -> Fired:
    """One pass over the three stages. The caller owns the transaction (commit, then publish)."""
    fired = Fired()
    escalate = timedelta(seconds=escalate_s)

    claimed = await _claim(session, and_(Deadline.remind_at <= now, Deadline.reminded_at.is_(None)),
                           Deadline.remind_at, batch)
    progress = await _with_progress(session, {i.id for d, i, _ in claimed if d.kind == "feedback"})
    for d, incident, order in claimed:
        d.reminded_at = now
        if _met(d, incident, order, incident.id in progress):
            d.met_at = now
            fired.met += 1
        elif d.due_at > now:  # a reminder after the deadline would only be noise: overdue says it
            await record(session, incident=incident, order=order, actor=ACTOR, kind="deadline.reminder",
                         payload=_deadline_payload(d, now))
            fired.reminders += 1
            fired.ids.append((d.id, "reminder"))

    claimed = await _claim(session, and_(Deadline.due_at <= now, Deadline.overdue_at.is_(None)), Deadline.due_at, batch)
    progress = await _with_progress(session, {i.id for d, i, _ in claimed if d.kind == "feedback"})
    for d, incident, order in claimed:
        if _met(d, incident, order, incident.id in progress):
            d.met_at = now
            fired.met += 1
            continue
        d.overdue_at = now
        await record(session, incident=incident, order=order, actor=ACTOR, kind="deadline.overdue",
                     payload=_deadline_payload(d, now))
        fired.overdue += 1
        fired.ids.append((d.id, "overdue"))
        await _raise(session, d, incident, order, now, escalate, fired)

    claimed = await _claim(session, Deadline.next_escalation_at <= now, Deadline.next_escalation_at, batch)
    progress = await _with_progress(session, {i.id for d, i, _ in claimed if d.kind == "feedback"})
    for d, incident, order in claimed:
        if _met(d, incident, order, incident.id in progress):
            d.met_at, d.next_escalation_at = now, None
            fired.met += 1
            continue
        await _raise(session, d, incident, order, now, escalate, fired)
    await session.flush()
    return fired


async def _raise(session: AsyncSession, d: Deadline, incident: Incident, order: Order | None, now: datetime,
                 escalate: timedelta, fired: Fired) -> None:
    """Supervision one level further up; stops at the top of the chain."""
    path = list(incident.region_path or [])
    region = supervisor_region(path, d.supervision_level + 1)
    if region is None:
        d.next_escalation_at = None
        return
    d.supervision_level += 1
    d.next_escalation_at = now + escalate if supervisor_region(path, d.supervision_level + 1) else None
    payload = _deadline_payload(d, now) | {"supervision": {"level": d.supervision_level, "region_code": region}}
    await record(session, incident=incident, order=order, actor=ACTOR, kind="supervision.raised",
                 reason=f"overdue_{d.kind}: {region}", payload=payload)
    fired.supervision += 1
    fired.ids.append((d.id, f"supervision:{d.supervision_level}"))
