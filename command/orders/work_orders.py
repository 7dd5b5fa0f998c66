"""Department work orders (工单) and item types (即办件 / 承诺件 / 联办件 / 答复件).

A 联办件 has one lead department and supporting ones, each with its own order, sign-for limit and
deadline; the incident is resolved only when every live order has reported done (`maybe_resolve`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from command.core.clock import utcnow
from command.core.errors import Conflict, InvalidInput
from command.core.events import Actor, append_event
from command.core.lifecycle import ORDER_HOLDING, IncidentStatus, OrderStatus
from command.core.models import Department, Incident, Order
from command.core.moves import lock_incident, lock_orders, move_incident
from command.core.summaries import incident_summary, order_summary
from command.deadlines.deadlines import schedule_order

ITEM_TYPES = ("immediate", "promise", "joint", "answer")  # 即办件 承诺件 联办件 答复件
# Orders that no longer take part in the incident (sent back, refused, timed out, withdrawn).
ORDER_GONE = frozenset({OrderStatus.declined, OrderStatus.returned, OrderStatus.timed_out, OrderStatus.cancelled})
_DISPATCHABLE = {IncidentStatus.located, IncidentStatus.needs_attention, IncidentStatus.returned,
                 IncidentStatus.reopened, IncidentStatus.suspended}


def live(orders: Sequence[Order]) -> list[Order]:
    return [o for o in orders if o.status not in ORDER_GONE]


async def assign_departments(
    session: AsyncSession,
    *,
    incident_id: int,
    lead: str,
    supports: Sequence[str] = (),
    actor: Actor,
    tz: ZoneInfo,
    due_at: datetime | None = None,
    support_due_at: dict[str, datetime] | None = None,
) -> list[Order]:
    """Send work orders to a lead department and (联办件) supporting ones."""
    codes = [lead, *supports]
    if len(set(codes)) != len(codes):
        raise InvalidInput("a department may appear only once (lead or supporting)")
    now = utcnow()
    for when in [due_at, *(support_due_at or {}).values()]:
        if when is not None and (when.tzinfo is None or when <= now):
            raise InvalidInput("a deadline must be a future time with a timezone")
    unknown_support = set(support_due_at or {}) - set(supports)
    if unknown_support:
        raise InvalidInput(f"deadline given for departments that are not supporting: {sorted(unknown_support)}")
    known = set(await session.scalars(select(Department.code).where(Department.code.in_(codes))))
    if missing := [c for c in codes if c not in known]:
        raise InvalidInput(f"unknown department(s): {', '.join(missing)}")
    incident = await lock_incident(session, incident_id)
    existing = await lock_orders(session, incident.id)
    busy = {o.department_code for o in existing if o.assignee_kind == "department" and o.status in ORDER_HOLDING}
    if clash := [c for c in codes if c in busy]:
        raise Conflict(f"department(s) already hold a live order for this incident: {', '.join(clash)}")
    if supports and incident.item_type != "joint":
        incident.item_type = "joint"  # several departments make it a 联办件
    if incident.status in _DISPATCHABLE:
        await move_incident(session, incident=incident, to=IncidentStatus.dispatched, actor=actor,
                            kind="incident.dispatched", reason=f"work order to {', '.join(codes)}")
    elif incident.status not in (IncidentStatus.dispatched, IncidentStatus.in_progress):
        # Let the table produce the standard 409 for any other state.
        await move_incident(session, incident=incident, to=IncidentStatus.dispatched, actor=actor)
    orders = []
    for code in codes:
        role = "lead" if code == lead else "support"
        order = Order(incident_id=incident.id, assignee_kind="department", department_code=code, role=role,
                      status=str(OrderStatus.sent),
                      due_at=(support_due_at or {}).get(code, due_at) if role == "support" else due_at)
        session.add(order)
        await session.flush()
        await session.refresh(order, ["created_at"])
        await schedule_order(session, order=order, incident=incident, tz=tz)
        await append_event(session, kind="order.sent", actor=actor, incident=incident, order=order,
                           to_state=order.status, reason=f"{role} department",
                           payload={"order": order_summary(order), "incident": incident_summary(incident)})
        orders.append(order)
    return orders


async def maybe_resolve(session: AsyncSession, *, incident: Incident, actor: Actor) -> bool:
    """Resolve the (locked) incident once every live order has reported done."""
    orders = live(await lock_orders(session, incident.id))
    if not orders or any(o.status != OrderStatus.done for o in orders):
        return False
    if incident.status not in (IncidentStatus.dispatched, IncidentStatus.in_progress):
        return False
    await move_incident(session, incident=incident, to=IncidentStatus.resolved, actor=actor,
                        kind="incident.resolved", reason=f"all {len(orders)} order(s) reported done")
    return True


async def set_item_type(session: AsyncSession, *, incident: Incident, item_type: str) -> None:
    if item_type not in ITEM_TYPES:
        raise InvalidInput(f"unknown item type {item_type!r}; expected one of {', '.join(ITEM_TYPES)}")
    incident.item_type = item_type
    await session.flush()
