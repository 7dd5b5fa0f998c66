"""CAP 1.2 intake (issue 17 item 3, docs/interop.md): a warning feed's or a sensor's message becomes the one intake
call (command.intake.intake.submit_alert) and keeps its area.

- Validated against the OASIS schema by capvalidator (command.intake.channels.cap_message); refused with its message.
- (sender, identifier) is the idempotency key: cap_messages is written first, ON CONFLICT DO NOTHING, so a message
  sent twice (or by two racing retries) is taken once; the second answer is the first one's, as a replay.
- The info shown is the zh-CN one (any zh-*, else the first); every info is kept (cap_messages.infos and the XML).
- Its `<area>`s (polygons, circles, geocodes naming region codes; all infos' areas when the shown one has none)
  become one geometry (geo.areas): the incident sits at its representative point, keeps the area, and lists every
  grid it touches; the answer names those grids and the workers who serve them, so they can be warned.
- msgType Alert with status Actual → a new incident (category from the admin's table, cap_categories; priority from
  it or from CAP severity). Update → the incidents the `references` name get the new text, area and grids (an
  event each). Cancel → they are cancelled with their open orders (or, past that, an event says so). Ack and
  Error are recorded only.
- status Exercise, Test, System and Draft never alarm the wall: recorded and located, no incident, no event."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
from redis.asyncio import Redis
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from command.assign.live import hold_live_lock
from command.assign.loads import release_load
from command.core.errors import Forbidden, IllegalTransition, InvalidInput
from command.core.events import Actor
from command.core.lifecycle import INCIDENT_TERMINAL, IncidentStatus, OrderStatus
from command.core.models import CapMessage, Incident, Worker
from command.core.moves import lock_incident, lock_orders, move_incident, move_order, record
from command.core.scoping import region_in_scope
from command.core.security import Principal
from command.core.settings import Settings
from command.intake.channels import cap_categories
from command.intake.channels.cap_message import CapAlert, CapArea, CapInfo, read
from command.intake.intake import MAX_DESCRIPTION, AlertIn, submit_alert
from command.orders.work_orders import ORDER_GONE
from geo.areas import Area, area_of, store_area

CHANNEL = "cap"
ALARMING = "Actual"
SEVERITY_PRIORITY = {"Extreme": 1, "Severe": 2, "Moderate": 3, "Minor": 4}


@dataclass(slots=True)
class CapOutcome:
    message_id: int
    created: bool                    # False: this sender+identifier was taken before (the first answer again)
    action: str                      # alerted | updated | cancelled | recorded
    status: str
    msg_type: str
    language: str | None             # the info shown
    incident_ids: list[int] = field(default_factory=list)
    grids: list[str] = field(default_factory=list)
    grid_workers: dict[str, list[int]] = field(default_factory=dict)
    lon: float | None = None
    lat: float | None = None
    signed: bool = False
    signature_valid: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"message_id": self.message_id, "created": self.created, "action": self.action,
                "status": self.status, "msg_type": self.msg_type, "language": self.language,
                "incident_ids": self.incident_ids, "grids": self.grids, "grid_workers": self.grid_workers,
                "lon": self.lon, "lat": self.lat, "signed": self.signed, "signature_valid": self.signature_valid}


def shown_info(infos: list[CapInfo]) -> CapInfo | None:
    """zh-CN, else any Chinese, else the first."""
    for wanted in ("zh-cn", "zh"):
        for info in infos:
            if info.language.lower() == wanted or (wanted == "zh" and info.language.lower().startswith("zh")):
                return info
    return infos[0] if infos else None


def _areas(alert: CapAlert, info: CapInfo | None) -> list[CapArea]:
    if info is not None and info.areas:
        return info.areas
    return [a for i in alert.infos for a in i.areas]


async def _locate(session: AsyncSession, areas: list[CapArea]) -> Area | None:
    return await area_of(session, polygons=[r for a in areas for r in a.polygons],
                         circles=[c for a in areas for c in a.circles],
                         region_codes=[v for a in areas for _, v in a.geocodes if v])


def _description(info: CapInfo, areas: list[CapArea]) -> str:
    parts = [info.headline or info.event, info.description, info.instruction,
             "；".join(a.desc for a in areas if a.desc) or None]
    text_ = "\n".join(p for p in parts if p)
    return text_[:MAX_DESCRIPTION]


_CLAIM = text("""
INSERT INTO cap_messages (sender, identifier, sent, status, msg_type, refs, infos, xml)
VALUES (:sender, :identifier, :sent, :status, :msg_type, :refs, CAST(:infos AS jsonb), :xml)
ON CONFLICT (sender, identifier) DO NOTHING RETURNING id
""")


async def _grid_workers(session: AsyncSession, grids: list[str]) -> dict[str, list[int]]:
    if not grids:
        return {}
    rows = await session.execute(select(Worker.id, Worker.grid_codes).where(Worker.grid_codes.op("&&")(grids)))
    out: dict[str, list[int]] = {g: [] for g in grids}
    for wid, codes in rows:
        for g in codes:
            if g in out:
                out[g].append(wid)
    return out


async def _replay(session: AsyncSession, alert: CapAlert) -> CapOutcome:
    row = await session.scalar(select(CapMessage).where(CapMessage.sender == alert.sender,
                                                        CapMessage.identifier == alert.identifier))
    if row is None:  # the racing first attempt rolled back: cannot be, it held the row until its end
        raise InvalidInput("this CAP message conflicts with one being taken in; send it again")
    shown = next((i for i in row.infos if i.get("shown")), None)
    return CapOutcome(message_id=row.id, created=False, action="replayed", status=row.status, msg_type=row.msg_type,
                      language=shown["language"] if shown else None,
                      incident_ids=[row.incident_id] if row.incident_id else [], grids=list(row.grids),
                      grid_workers=await _grid_workers(session, list(row.grids)),
                      signed=alert.signed, signature_valid=alert.signature_valid)


async def _referenced(session: AsyncSession, alert: CapAlert, principal: Principal) -> list[int]:
    if not alert.references:
        raise InvalidInput(f"a {alert.msg_type} must name the messages it acts on in <references>",
                           details=[{"field": "references"}])
    found = []
    for sender, identifier, _sent in alert.references:
        row = await session.scalar(select(CapMessage).where(CapMessage.sender == sender,
                                                            CapMessage.identifier == identifier))
        if row is None:
            raise InvalidInput(f"references name a message never taken in: {sender},{identifier}",
                               details=[{"field": "references"}])
        if row.incident_id is not None and row.incident_id not in found:
            found.append(row.incident_id)
    for iid in found:
        path = await session.scalar(select(Incident.region_path).where(Incident.id == iid))
        if not region_in_scope(principal, path or []):
            raise Forbidden(f"incident {iid} that this message acts on is outside your region")
    return found


async def _alert(session: AsyncSession, redis: Redis, *, alert: CapAlert, info: CapInfo, area: Area,
                 areas: list[CapArea], actor: Actor, settings: Settings) -> int:
    mapping = await cap_categories.resolve(session, event=info.event, categories=info.categories)
    category = mapping.category_code if mapping else settings.cap_default_category
    if not category:
        raise InvalidInput(f"no category is mapped for CAP event {info.event!r} or categories "
                           f"{', '.join(info.categories)}; an admin maps one (PUT /api/v1/admin/cap-categories)",
                           details=[{"field": "event"}])
    priority = mapping.priority if mapping and mapping.priority else SEVERITY_PRIORITY.get(info.severity)
    submitted = await submit_alert(session, redis, actor=actor, settings=settings, alert=AlertIn(
        category=category, description=_description(info, areas), lon=area.lon, lat=area.lat, channel=CHANNEL,
        priority=priority))
    await store_area(session, incident_id=submitted.incident.id, area=area)
    return submitted.incident.id


async def _update(session: AsyncSession, *, incident_ids: list[int], alert: CapAlert, info: CapInfo | None,
                  area: Area | None, areas: list[CapArea], actor: Actor) -> None:
    for iid in incident_ids:
        incident = await lock_incident(session, iid)
        if info is not None:
            incident.description = _description(info, areas)
        if area is not None:
            await store_area(session, incident_id=iid, area=area)
        await record(session, incident=incident, actor=actor, kind="incident.cap_updated", payload={
            "cap": {"sender": alert.sender, "identifier": alert.identifier},
            "grids": area.grids if area else None})


async def _cancel(session: AsyncSession, redis: Redis, *, incident_ids: list[int], alert: CapAlert, actor: Actor,
                  settings: Settings) -> None:
    await hold_live_lock(session)  # before the row locks (command.assign.live)
    why = f"cancelled by CAP {alert.sender},{alert.identifier}"
    for iid in incident_ids:
        incident = await lock_incident(session, iid)
        if incident.status in INCIDENT_TERMINAL:
            continue
        try:
            await move_incident(session, incident=incident, to=IncidentStatus.cancelled, actor=actor,
                                kind="incident.cancelled", reason=why)
        except IllegalTransition:  # resolved already: the record says the warning was withdrawn
            await record(session, incident=incident, actor=actor, kind="incident.cap_cancelled", reason=why)
            continue
        released = []
        for order in await lock_orders(session, iid):
            if order.status not in ORDER_GONE and order.status != OrderStatus.done:
                await move_order(session, incident=incident, order=order, to=OrderStatus.cancelled, actor=actor,
                                 kind="order.cancelled", reason=why)
                if order.worker_id is not None:
                    released.append(order.worker_id)
        await release_load(session, redis, settings=settings, worker_ids=released)


async def take(session: AsyncSession, redis: Redis, *, xml: bytes, principal: Principal, actor: Actor,
               settings: Settings) -> CapOutcome:
    """Validate, record once per (sender, identifier), locate and act (see the module's doc). The caller commits."""
    alert = read(xml, require_signature=settings.cap_require_signature)
    info = shown_info(alert.infos)
    infos = [{**i.as_dict(), "shown": i is info} for i in alert.infos]
    message_id = (await session.execute(_CLAIM, {
        "sender": alert.sender, "identifier": alert.identifier, "sent": alert.sent, "status": alert.status,
        "msg_type": alert.msg_type, "refs": alert.references_text, "infos": orjson.dumps(infos).decode(),
        "xml": alert.text})).scalar()
    if message_id is None:
        return await _replay(session, alert)
    areas = _areas(alert, info)
    area = await _locate(session, areas) if areas else None
    outcome = CapOutcome(message_id=message_id, created=True, action="recorded", status=alert.status,
                         msg_type=alert.msg_type, language=info.language if info else None,
                         signed=alert.signed, signature_valid=alert.signature_valid)
    if area is not None:
        outcome.grids, outcome.lon, outcome.lat = area.grids, area.lon, area.lat
    actual = alert.status == ALARMING
    if alert.msg_type == "Alert":
        if info is None:
            raise InvalidInput("an Alert needs an <info> block", details=[{"field": "info"}])
        if area is None:
            raise InvalidInput("no <area> of this alert could be located (no polygon or circle, and no geocode "
                               "names a region code)", details=[{"field": "area"}])
        if actual:
            outcome.incident_ids = [await _alert(session, redis, alert=alert, info=info, area=area, areas=areas,
                                                 actor=actor, settings=settings)]
            outcome.action = "alerted"
    elif alert.msg_type in ("Update", "Cancel"):
        targets = await _referenced(session, alert, principal)
        if actual and targets:
            outcome.incident_ids = targets
            if alert.msg_type == "Update":
                await _update(session, incident_ids=targets, alert=alert, info=info, area=area, areas=areas,
                              actor=actor)
                outcome.action = "updated"
            else:
                await _cancel(session, redis, incident_ids=targets, alert=alert, actor=actor, settings=settings)
                outcome.action = "cancelled"
    outcome.grid_workers = await _grid_workers(session, outcome.grids)
    await session.execute(text("UPDATE cap_messages SET incident_id = :i, grids = :g WHERE id = :m"), {
        "i": outcome.incident_ids[0] if outcome.incident_ids else None, "g": outcome.grids, "m": message_id})
    return outcome
