"""Deadlines of incidents and department work orders: computed from the rules, kept as rows of
`deadlines` that the scheduler (command.deadlines.scheduler) fires.

`schedule_incident` / `schedule_order` are called where incidents and department orders are created;
`adopt` (run by the scheduler) schedules any that were created by a path that did not call them, so
no incident goes without its deadlines. Rows are keyed, so scheduling twice is harmless."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, inspect, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from command.core.clock import utcnow
from command.core.events import flush_unless_batched
from command.core.lifecycle import INCIDENT_TERMINAL
from command.core.models import Deadline, Incident, Order
from command.deadlines.rules import Limit, due_for, limit_for
from pgnative.statements import Native

# The adoption sweep looks back this far for incidents created without their deadlines.
ADOPT_LOOKBACK = timedelta(days=2)
# Without a rule's own reminder lead, remind when a fifth of the time is left.
_DEFAULT_REMIND_SHARE = 0.2


_INSERT_INCIDENT_ROWS = Native("""
INSERT INTO deadlines (key, incident_id, kind, due_at, remind_at)
SELECT k, :incident_id, kd, d, r
FROM unnest(CAST(:keys AS varchar[]), CAST(:kinds AS varchar[]), CAST(:due AS timestamptz[]),
            CAST(:remind AS timestamptz[])) AS t(k, kd, d, r)
ON CONFLICT (key) DO NOTHING
""")


async def _insert(
    session: AsyncSession, *, key: str, incident_id: int, order_id: int | None, kind: str,
    due_at: datetime, remind_at: datetime | None,
) -> None:
    await session.execute(
        insert(Deadline)
        .values(key=key, incident_id=incident_id, order_id=order_id, kind=kind, due_at=due_at, remind_at=remind_at)
        .on_conflict_do_nothing(index_elements=["key"])
    )


def _remind(limit: Limit | None, start: datetime, due: datetime) -> datetime | None:
    if limit is not None and limit.remind_before_s:
        return limit.remind_at(start, due)
    at = due - (due - start) * _DEFAULT_REMIND_SHARE
    return at if start < at < due else None


async def _limit(session: AsyncSession, incident: Incident, kind: str) -> Limit | None:
    return await limit_for(
        session, kind=kind, category_code=incident.category_code, region_path=incident.region_path or [],
        channel=incident.channel, priority=incident.priority,
    )


async def schedule_incident(session: AsyncSession, *, incident: Incident, tz: ZoneInfo) -> None:
    """The respond / feedback / resolve deadlines of an incident. A due time already on the incident
    (e.g. the 12345 platform's own deadline) is kept; otherwise it is computed and stored."""
    start = incident.created_at or utcnow()
    rows = []
    for kind in ("respond", "feedback", "resolve"):
        limit = await _limit(session, incident, kind)
        preset = {"respond": incident.respond_due_at, "resolve": incident.resolve_due_at}.get(kind)
        if preset is not None:
            due = preset
        elif limit is not None:
            due = await due_for(session, limit, start, tz, incident.region_path or [])
        else:
            continue
        if kind == "respond":
            incident.respond_due_at = due
        elif kind == "resolve":
            incident.resolve_due_at = due
        rows.append({"kind": kind, "due_at": due, "remind_at": _remind(limit, start, due)})
    if rows:  # one native multi-row INSERT for the (up to) three, on every alert's path
        # Not flushed yet, so no id (which its Mapped[int] type cannot say): the rows reference it (an ORM
        # statement would autoflush).
        if inspect(incident).identity is None:
            await session.flush()
        await _INSERT_INCIDENT_ROWS.fetch(
            session, incident_id=incident.id, keys=[f"incident:{incident.id}:{r['kind']}:0" for r in rows],
            kinds=[r["kind"] for r in rows], due=[r["due_at"] for r in rows], remind=[r["remind_at"] for r in rows])
    await flush_unless_batched(session)


async def schedule_order(session: AsyncSession, *, order: Order, incident: Incident, tz: ZoneInfo) -> None:
    """Sign-for and resolve deadlines of a department work order (worker orders have the dispatcher's
    acknowledgement timeout instead). Preset `ack_due_at` / `due_at` are kept."""
    if order.assignee_kind != "department":
        return
    start = order.created_at or utcnow()
    sign = await _limit(session, incident, "sign_for")
    if order.ack_due_at is None and sign is not None:
        order.ack_due_at = await due_for(session, sign, start, tz, incident.region_path or [])
    if order.ack_due_at is not None:
        await _insert(session, key=f"order:{order.id}:sign_for:0", incident_id=incident.id, order_id=order.id,
                      kind="sign_for", due_at=order.ack_due_at, remind_at=_remind(sign, start, order.ack_due_at))
    resolve = await _limit(session, incident, "resolve")
    if order.due_at is None:
        if incident.resolve_due_at is not None:
            order.due_at = incident.resolve_due_at
        elif resolve is not None:
            order.due_at = await due_for(session, resolve, start, tz, incident.region_path or [])
    if order.due_at is not None:
        await _insert(session, key=f"order:{order.id}:resolve:0", incident_id=incident.id, order_id=order.id,
                      kind="resolve", due_at=order.due_at, remind_at=_remind(resolve, start, order.due_at))
    await session.flush()


async def _next_generation(session: AsyncSession, *, incident_id: int, order_id: int | None, kind: str) -> int:
    count = await session.scalar(
        select(func.count()).select_from(Deadline).where(
            Deadline.incident_id == incident_id, Deadline.kind == kind,
            Deadline.order_id.is_(None) if order_id is None else Deadline.order_id == order_id)
    )
    return int(count or 0)


async def move_resolve(session: AsyncSession, *, incident: Incident, order: Order | None, due_at: datetime) -> None:
    """A new resolve deadline (a granted extension, 延期): the running one stops, a new one starts."""
    now = utcnow()
    await session.execute(
        update(Deadline)
        .where(Deadline.incident_id == incident.id, Deadline.kind == "resolve", Deadline.met_at.is_(None),
               Deadline.order_id.is_(None) if order is None else Deadline.order_id == order.id)
        .values(met_at=now, next_escalation_at=None)
    )
    generation = await _next_generation(session, incident_id=incident.id,
                                        order_id=order.id if order else None, kind="resolve")
    owner = f"order:{order.id}" if order is not None else f"incident:{incident.id}"
    if order is not None:
        order.due_at = due_at
    else:
        incident.resolve_due_at = due_at
    await _insert(session, key=f"{owner}:resolve:{generation}", incident_id=incident.id,
                  order_id=order.id if order else None, kind="resolve", due_at=due_at,
                  remind_at=_remind(None, now, due_at))
    await session.flush()


async def restart_resolve(session: AsyncSession, *, incident: Incident, tz: ZoneInfo) -> None:
    """A reopened incident gets a fresh resolve deadline from now (the reopen itself counts against it)."""
    limit = await _limit(session, incident, "resolve")
    if limit is not None:
        due = await due_for(session, limit, utcnow(), tz, incident.region_path or [])
        await move_resolve(session, incident=incident, order=None, due_at=due)


async def adopt(session: AsyncSession, *, tz: ZoneInfo, batch: int) -> int:
    """Schedule recent open incidents and department orders that have no deadline rows yet."""
    since = utcnow() - ADOPT_LOOKBACK
    incidents = list(await session.scalars(
        select(Incident)
        .where(Incident.created_at >= since, Incident.status.not_in([str(s) for s in INCIDENT_TERMINAL]),
               ~exists().where(Deadline.incident_id == Incident.id, Deadline.order_id.is_(None)))
        .order_by(Incident.id).limit(batch)
    ))
    for incident in incidents:
        await schedule_incident(session, incident=incident, tz=tz)
    orders = (await session.execute(
        select(Order, Incident).join(Incident, Incident.id == Order.incident_id)
        .where(Order.assignee_kind == "department", Order.created_at >= since,
               ~exists().where(Deadline.order_id == Order.id))
        .order_by(Order.id).limit(batch)
    )).all()
    for order, incident in orders:
        await schedule_order(session, order=order, incident=incident, tz=tz)
    return len(incidents) + len(orders)
