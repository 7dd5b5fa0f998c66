"""Counter intake (窗口/服务专柜, issue 15 item 4): a service-centre desk takes a resident's request for one item of
the service catalogue. A 即办件 (or 答复件) is handled on the spot: stored without dispatch, resolved with the outcome,
verified and closed at once, each step on the timeline under the operator's name. A 承诺件 (or 联办件) is
registered and dispatched as any request, its resolve deadline the item's time limit in working days. Either way
the resident leaves with a receipt that carries the tracking link (command.orders.tracking)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from command.core.errors import InvalidInput, NotFound
from command.core.events import Actor, append_event
from command.core.models import Event, Incident, ServiceItem
from command.core.settings import Settings
from command.deadlines.deadlines import move_resolve
from command.deadlines.rules import calendar_for
from command.intake.intake import AlertIn, submit_alert
from command.intake.service_items import active_item
from command.orders import review

ON_THE_SPOT = ("immediate", "answer")
PROMISED = ("promise", "joint")


@dataclass
class CounterCase:
    incident: Incident
    item: ServiceItem
    mode: str  # on_the_spot | promise
    due_at: datetime | None


def _bad(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, details=[{"field": field, "reason": message}])


async def take(session: AsyncSession, redis: Redis, *, settings: Settings, actor: Actor, item_code: str, mode: str,
               description: str, lon: float, lat: float, name: str | None, phone: str | None,
               outcome: str | None) -> CounterCase:
    """One request at the desk: handled on the spot (mode on_the_spot, with the outcome) or promised (mode promise,
    with the item's deadline)."""
    item = await active_item(session, item_code, field="item_code")
    if mode == "on_the_spot":
        if item.item_type not in ON_THE_SPOT:
            raise _bad("mode", f"{item.name} is a {item.item_type} item: register it with its deadline")
        if not (outcome or "").strip():
            raise _bad("outcome", "say how it was handled at the desk (办理结果)")
    elif mode == "promise":
        if item.item_type not in PROMISED or not item.time_limit_days:
            raise _bad("mode", f"{item.name} is handled on the spot, not promised with a deadline")
    else:
        raise _bad("mode", f"unknown mode {mode!r}")
    submitted = await submit_alert(
        session, redis, settings=settings, actor=actor,
        alert=AlertIn(category=item.category_code or "", description=description, lon=lon, lat=lat, channel="counter",
                      reporter_name=name, reporter_phone=phone, item_type=item.item_type,
                      dispatch=mode == "promise", service_item_code=item.code))
    incident = submitted.incident
    # The receipt reads the mode (and the item) from this event.
    await append_event(session, kind="counter.received", actor=actor, incident=incident,
                       payload={"item_code": item.code, "mode": mode})
    if mode == "on_the_spot":
        note = (outcome or "").strip()
        await review.resolve_on_the_spot(session, incident_id=incident.id, actor=actor, note=note)
        await review.verify(session, incident_id=incident.id, actor=actor, note="窗口即办")
        await review.close(session, incident_id=incident.id, actor=actor, note=note)
        return CounterCase(incident, item, mode, None)
    assert item.time_limit_days is not None
    calendar = await calendar_for(session, incident.region_path or [])
    due = calendar.add_workdays(incident.created_at, item.time_limit_days, ZoneInfo(settings.timezone))
    await move_resolve(session, incident=incident, order=None, due_at=due)
    return CounterCase(incident, item, mode, due)


async def receipt(session: AsyncSession, incident_id: int) -> tuple[Incident, ServiceItem, str, str | None]:
    """The incident taken at a counter, its catalogue item, the mode and (即办) the outcome, for the receipt."""

    event = await session.scalar(select(Event).where(Event.incident_id == incident_id,
                                                     Event.kind == "counter.received").limit(1))
    incident = await session.get(Incident, incident_id)
    if event is None or incident is None:
        raise NotFound(f"no counter receipt for incident {incident_id}")
    payload = event.payload or {}
    item = await session.scalar(select(ServiceItem).where(ServiceItem.code == payload.get("item_code")))
    if item is None:
        raise NotFound(f"the catalogue item of incident {incident_id} is gone")
    outcome = await session.scalar(select(Event.reason).where(
        Event.incident_id == incident_id, Event.kind == "incident.resolved").order_by(Event.id.desc()).limit(1))
    return incident, item, str(payload.get("mode")), outcome
