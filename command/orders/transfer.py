"""Transfer across jurisdictions (迁出地 → 迁入地): the incident moves to another region's centre with
its whole history. Its live orders (not yet taken in hand) are withdrawn; it waits, located, for
the new centre to dispatch it. The transfer event goes to the screens of both regions."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from command.core.errors import Conflict, InvalidInput
from command.core.events import Actor
from command.core.lifecycle import ORDER_OFFERED, IncidentStatus, OrderStatus
from command.core.models import Incident
from command.core.moves import lock_incident, lock_orders, move_incident, move_order, record
from command.core.scoping import ensure_incident
from command.core.security import Principal
from command.orders.work_orders import ORDER_GONE
from geo.models import Region

TRANSFERABLE = (IncidentStatus.located, IncidentStatus.needs_attention, IncidentStatus.returned,
                IncidentStatus.dispatched)


async def transfer(session: AsyncSession, *, incident_id: int, region_code: str, principal: Principal,
                   reason: str) -> Incident:
    if not reason.strip():
        raise InvalidInput("a reason for the transfer is required")
    region = await session.scalar(select(Region).where(Region.code == region_code))
    if region is None:
        raise InvalidInput(f"unknown region {region_code!r}")
    incident = await lock_incident(session, incident_id)
    ensure_incident(principal, incident)
    if incident.region_code == region.code:
        raise InvalidInput(f"incident {incident_id} is already in {region_code}")
    if incident.status not in TRANSFERABLE:
        raise Conflict(f"an incident that is {incident.status} cannot be transferred; "
                       f"allowed from: {', '.join(sorted(TRANSFERABLE))}")
    orders = await lock_orders(session, incident.id)
    if in_hand := [o.id for o in orders if o.status not in ORDER_GONE and o.status not in ORDER_OFFERED]:
        raise Conflict(f"order(s) {in_hand} are already in hand; have them sent back first")
    actor = Actor(name=principal.username, user_id=principal.user_id)
    for order in orders:
        if order.status in ORDER_OFFERED:
            await move_order(session, incident=incident, order=order, to=OrderStatus.cancelled, actor=actor,
                             kind="order.cancelled", reason=f"transferred to {region.code}")
    old_code, old_path = incident.region_code, list(incident.region_path or [])
    if incident.status != IncidentStatus.located:
        await move_incident(session, incident=incident, to=IncidentStatus.located, actor=actor,
                            kind="incident.status", reason=f"transferred to {region.code}")
    incident.region_code, incident.region_path = region.code, list(region.path)
    incident.attention_reason = None
    await session.flush()
    event = await record(session, incident=incident, actor=actor, kind="incident.transferred", reason=reason,
                         payload={"transfer": {"from_region": old_code, "from_path": old_path,
                                               "to_region": region.code, "to_path": list(region.path)}})
    # Both centres see the transfer: the event carries the union of the two chains.
    event.region_path = old_path + [c for c in region.path if c not in old_path]
    await session.flush()
    return incident
