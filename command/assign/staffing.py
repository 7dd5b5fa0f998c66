"""Incidents short of workers get them once workers are available again.

An incident ends up short when nobody qualified at the time (`no_worker`: needs_attention with nothing sent, or
dispatched to its departments only, or with fewer workers than its rule asks), or while dispatch waited for the
workers after a rebuild of the live state (`waiting_for_workers` on an incident that was already dispatched).
Workers come back on duty, report again, finish orders; so each sweeper tick (command/ops/sweeper.py) retries these
incidents: the claim comes first, and only when it claims somebody is anything written (new offers, the reason
brought up to date, needs_attention → dispatched). An attempt that finds nobody writes nothing and publishes
nothing, so retrying every tick costs one claim each and floods no screen. `offers_failed` (declined or timed out
too often) is left to the operators, as is a rule that asks for no worker."""

from __future__ import annotations

from redis.asyncio import Redis
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from command.assign.assignment import offer_workers, raise_attention, worker_ids_on
from command.assign.live import hold_live_lock
from command.assign.loads import claim_nearest
from command.core.attention import NO_WORKER, WAITING, is_waiting, reason, reason_codes, with_worker_reason
from command.core.clock import utcnow
from command.core.events import Actor
from command.core.lifecycle import ORDER_HOLDING, IncidentStatus
from command.core.models import SHORT_OF_WORKERS_SQL, Incident, Order
from command.core.moves import move_incident, record
from command.core.routing import own_grid_workers, routing_rule
from command.core.settings import Settings
from dispatch.assign import LiveStateMissing, PresenceWarmingUp

I = IncidentStatus  # noqa: E741
SHORT_STATES = [I.needs_attention.value, I.dispatched.value, I.in_progress.value]
_HOLDING = [s.value for s in ORDER_HOLDING]


def short_of_workers(text: str | None) -> bool:
    codes = reason_codes(text)
    return NO_WORKER in codes or WAITING in codes


async def short_incidents(session: AsyncSession, *, limit: int) -> list[int]:
    """Open incidents whose reason says they lack workers, least recently touched first."""
    return list(await session.scalars(
        select(Incident.id).where(text(SHORT_OF_WORKERS_SQL)).order_by(Incident.updated_at).limit(limit)))


async def restaff(session: AsyncSession, redis: Redis, *, incident_id: int, settings: Settings,
                  actor: Actor) -> bool:
    """Offer the incident to as many workers as it still lacks. True if anything changed."""
    await hold_live_lock(session)
    incident = await session.scalar(
        select(Incident).where(Incident.id == incident_id, Incident.status.in_(SHORT_STATES))
        .with_for_update(skip_locked=True).execution_options(populate_existing=True))
    if incident is None or not short_of_workers(incident.attention_reason):
        return False  # moved on, or another sweeper has it
    rule = await routing_rule(session, category_code=incident.category_code, region_path=incident.region_path,
                              settings=settings)
    if rule.workers_needed <= 0:
        return False  # "the routing rule asks for no worker": nothing to retry, the operators decide
    holding = {kind: n for kind, n in (await session.execute(
        select(Order.assignee_kind, func.count()).where(Order.incident_id == incident.id,
                                                        Order.status.in_(_HOLDING))
        .group_by(Order.assignee_kind))).all()}
    need = rule.workers_needed - holding.get("worker", 0)
    if need <= 0:  # staffed meanwhile (an operator dispatched someone): the reason no longer holds
        incident.attention_reason = with_worker_reason(incident.attention_reason, None)
        incident.updated_at = utcnow()
        await record(session, incident=incident, actor=actor, kind="incident.staffed", reason=incident.attention_reason)
        return True
    preferred = await own_grid_workers(session, region_path=incident.region_path) if rule.own_grid_first else []
    try:
        claimed = await claim_nearest(session, redis, settings=settings, lon=incident.lon, lat=incident.lat,
                                      radius_m=rule.radius_m, need=need, preferred=preferred,
                                      exclude=await worker_ids_on(session, incident.id))
    except (LiveStateMissing, PresenceWarmingUp):
        return False  # still waiting: the next tick tries again
    if not claimed.claims:
        if is_waiting(incident.attention_reason):  # the wait is over and still nobody: the operators must know
            nobody = reason(NO_WORKER, f"no available worker within {rule.radius_m:.0f} m")
            await raise_attention(session, incident=incident, actor=actor,
                                  why=with_worker_reason(incident.attention_reason, nobody) or nobody)
            return True
        return False
    still_short = need - len(claimed.claims)
    incident.attention_reason = with_worker_reason(incident.attention_reason, reason(
        NO_WORKER, f"{rule.workers_needed - still_short} of {rule.workers_needed} workers available within "
                   f"{rule.radius_m:.0f} m") if still_short else None)
    incident.updated_at = utcnow()
    await offer_workers(session, redis, incident=incident, rule=rule, actor=actor,
                        claims=[(c.worker_id, c.distance_m) for c in claimed.claims],
                        first_role="support" if holding else "lead")
    if incident.status == I.needs_attention:
        await move_incident(session, incident=incident, to=I.dispatched, actor=actor, kind="incident.dispatched",
                            reason=incident.attention_reason)
    return True
