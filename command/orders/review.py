"""The operator's end of the loop: check the result (核查) and close it (结案), or send it back for
rework (返工, counted by its events); an immediate item (即办件) or an answer (答复件) is resolved on the spot."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from command.core.errors import IllegalTransition, InvalidInput
from command.core.events import Actor
from command.core.lifecycle import IncidentStatus, OrderStatus
from command.core.models import Incident
from command.core.moves import lock_incident, lock_orders, move_incident, move_order

ON_THE_SPOT_TYPES = ("immediate", "answer")


async def verify(session: AsyncSession, *, incident_id: int, actor: Actor, note: str | None) -> Incident:
    incident = await lock_incident(session, incident_id)
    await move_incident(session, incident=incident, to=IncidentStatus.verified, actor=actor, kind="incident.verified",
                        reason=note)
    return incident


async def close(session: AsyncSession, *, incident_id: int, actor: Actor, note: str | None) -> Incident:
    incident = await lock_incident(session, incident_id)
    await move_incident(session, incident=incident, to=IncidentStatus.closed, actor=actor, kind="incident.closed",
                        reason=note)
    return incident


async def rework(session: AsyncSession, *, incident_id: int, actor: Actor, reason: str,
                 order_ids: Sequence[int] = ()) -> Incident:
    """返工: the incident goes back in progress and the chosen done orders (default: all) back in hand."""
    if not reason.strip():
        raise InvalidInput("a reason for the rework is required")
    incident = await lock_incident(session, incident_id)
    if incident.status != IncidentStatus.resolved:
        raise IllegalTransition(f"rework needs a resolved incident; this one is {incident.status}")
    done = [o for o in await lock_orders(session, incident.id) if o.status == OrderStatus.done]
    chosen = [o for o in done if not order_ids or o.id in order_ids]
    if order_ids and len(chosen) != len(set(order_ids)):
        raise InvalidInput("rework names orders that are not done orders of this incident")
    if not chosen:
        raise IllegalTransition("this incident has no done order to send back for rework")
    await move_incident(session, incident=incident, to=IncidentStatus.in_progress, actor=actor, kind="incident.rework",
                        reason=reason)
    for order in chosen:
        back = OrderStatus.signed_for if order.assignee_kind == "department" else OrderStatus.accepted
        await move_order(session, incident=incident, order=order, to=back, actor=actor, kind="order.rework",
                         reason=reason)
    return incident


async def resolve_on_the_spot(session: AsyncSession, *, incident_id: int, actor: Actor, note: str) -> Incident:
    """即办件 handled at the counter / 答复件 answered: resolved with no work order."""
    if not note.strip():
        raise InvalidInput("say how it was handled or what the answer was")
    incident = await lock_incident(session, incident_id)
    if incident.item_type not in ON_THE_SPOT_TYPES:
        raise IllegalTransition(
            f"only immediate or answer items are resolved on the spot; this is {incident.item_type}")
    await move_incident(session, incident=incident, to=IncidentStatus.resolved, actor=actor, kind="incident.resolved",
                        reason=note, payload={"on_the_spot": True})
    return incident
