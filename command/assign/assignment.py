"""Dispatch: routing rule → departments and the nearest available workers → orders, or "needs attention".

`dispatch_incident` runs inside the caller's transaction (intake request, sweeper job). Claims happen in
Redis before any order is written, so a Redis failure leaves the incident `located` (nothing written) for the
sweeper to re-drive; a database failure after the claim rolls back and the undo hook gives the load back."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from command.assign.loads import claim_chosen, claim_nearest
from command.core import txhooks
from command.core.attention import (
    NO_DEPARTMENT,
    NO_WORKER,
    OFFERS_FAILED,
    WAITING,
    is_waiting,
    reason,
    with_worker_reason,
)
from command.core.clock import utcnow
from command.core.errors import Conflict, InvalidInput, Unavailable
from command.core.events import Actor
from command.core.lifecycle import ORDER_HOLDING, IncidentStatus, OrderStatus
from command.core.logctx import about_incident
from command.core.models import Incident, Order, Worker
from command.core.moves import move_incident, record
from command.core.outage import OUTAGES
from command.core.routing import Rule, departments_for, own_grid_workers, routing_rule
from command.core.settings import Settings
from command.core.summaries import order_payload
from dispatch import timers
from dispatch.assign import ClaimResult, LiveStateMissing, PresenceWarmingUp, distance_to
from dispatch.presence import Warmup
from pgnative.orm import attach_loaded
from pgnative.statements import Native

log = logging.getLogger(__name__)

I = IncidentStatus  # noqa: E741

# Incident states in which a failed offer is replaced by the next candidate.
_REDISPATCHABLE = frozenset({I.dispatched, I.in_progress})


def waiting_reason(warmup: Warmup) -> str:
    left = max(0.0, warmup.until - time.time())
    return reason(WAITING, f"{warmup.present} of {warmup.need} workers reported since the live state was rebuilt, "
                           f"at most {left:.0f} s")


async def hold_for_workers(session: AsyncSession, *, incident: Incident, warmup: Warmup, actor: Actor) -> None:
    """The workers' part of the dispatch waits for them to report again after a rebuild: say so once (event
    `incident.waiting`, the reason on the incident), so operators see it waiting rather than stuck. The sweeper
    offers it to them when the wait is over (command.ops.sweeper, command.assign.staffing)."""
    if is_waiting(incident.attention_reason):
        return
    incident.attention_reason = with_worker_reason(incident.attention_reason, waiting_reason(warmup))
    incident.updated_at = utcnow()
    await record(session, incident=incident, actor=actor, kind="incident.waiting", reason=incident.attention_reason)


@dataclass(slots=True)
class Outcome:
    orders: list[Order] = field(default_factory=list)
    deferred: bool = False  # live state missing or Redis unreachable: left `located`, the sweeper retries


async def worker_ids_on(session: AsyncSession, incident_id: int) -> list[int]:
    """Workers who already had an order for this incident (never offered it twice)."""
    ids = await session.scalars(
        select(Order.worker_id).where(Order.incident_id == incident_id, Order.assignee_kind == "worker"))
    return [i for i in ids if i is not None]  # a worker order always has one (the `assignee` constraint)


_ORDER_COLUMNS = tuple(c.name for c in Order.__table__.columns if c.name != "id")
_ORDER_TYPES = {"incident_id": "bigint", "worker_id": "integer", "distance_m": "float8"}
_ORDER_DEFAULTS = {c.name: c.default.arg for c in Order.__table__.columns
                   if c.default is not None and c.default.is_scalar}
_INSERT_ORDERS = Native(f"""
INSERT INTO orders ({", ".join(_ORDER_COLUMNS)})
SELECT {", ".join(f"coalesce({c}, now())" if c in ("created_at", "updated_at") else c for c in _ORDER_COLUMNS)}
FROM unnest({", ".join(
    f"CAST(:{c} AS {_ORDER_TYPES.get(c, 'timestamptz' if c.endswith('_at') else 'varchar')}[])"
    for c in _ORDER_COLUMNS)}) WITH ORDINALITY AS t({", ".join(_ORDER_COLUMNS)}, n)
ORDER BY n
RETURNING id, {", ".join(_ORDER_COLUMNS)}
""")


async def insert_orders(session: AsyncSession, orders: list[Order]) -> list[Order]:
    """New orders written by one native INSERT, returned as loaded objects in the session (ids set, in the given
    order). Their incident must already be in the database. The session's other pending changes are not
    flushed here (they go out with the next flush, as the events of `batched` do)."""
    if not orders:
        return []
    params = {c: [_ORDER_DEFAULTS[c] if getattr(o, c) is None and c in _ORDER_DEFAULTS else getattr(o, c)
                  for o in orders] for c in _ORDER_COLUMNS}
    rows = sorted(await _INSERT_ORDERS.fetch(session, **params), key=lambda r: r[0])
    return [attach_loaded(session, Order, dict(zip(("id", *_ORDER_COLUMNS), row, strict=True))) for row in rows]


def _schedule_timers(session: AsyncSession, redis: Redis, orders: list[Order]) -> None:
    due = {o.id: int(o.ack_due_at.timestamp() * 1000) for o in orders if o.ack_due_at is not None}
    if due:
        async def schedule() -> None:
            await timers.schedule(redis, due)

        txhooks.on_commit(session, schedule)


async def offer_workers(session: AsyncSession, redis: Redis, *, incident: Incident, rule: Rule,
                        claims: list[tuple[int, float | None]], actor: Actor, first_role: str) -> list[Order]:
    now = utcnow()
    orders = [
        Order(incident_id=incident.id, assignee_kind="worker", worker_id=wid, distance_m=dist,
              role=first_role if i == 0 else "support", status=OrderStatus.sent.value,
              created_at=now, updated_at=now, ack_due_at=now + timedelta(seconds=rule.ack_timeout_s))
        for i, (wid, dist) in enumerate(claims)
    ]
    orders = await insert_orders(session, orders)
    for order in orders:
        await record(session, incident=incident, actor=actor, kind="order.offered", order=order,
                     payload=order_payload(order))
    _schedule_timers(session, redis, orders)
    return orders


async def raise_attention(session: AsyncSession, *, incident: Incident, why: str, actor: Actor) -> None:
    """Operators must look: status needs_attention if nobody holds the incident any more, else the status
    stays and only the reason is set (event `incident.attention`)."""
    incident.attention_reason = why
    holding = await session.scalar(select(Order.id).where(
        Order.incident_id == incident.id, Order.status.in_([s.value for s in ORDER_HOLDING])).limit(1))
    if holding is None and incident.status != I.needs_attention:
        await move_incident(session, incident=incident, to=I.needs_attention, actor=actor,
                            kind="incident.needs_attention", reason=why)
    else:
        incident.updated_at = utcnow()
        await record(session, incident=incident, actor=actor, kind="incident.attention", reason=why)


async def dispatch_incident(session: AsyncSession, redis: Redis, *, incident: Incident, settings: Settings,
                            actor: Actor) -> Outcome:
    """Dispatch a `located` incident: department orders, worker orders, then dispatched or needs_attention.

    While the workers are expected back after a rebuild (the presence warm-up), the departments still get their
    orders at once and the workers' part waits: `dispatched` with the reason `waiting_for_workers`, or, with no
    department to send, `located` (held); the sweeper offers it to the workers when they are back."""
    about_incident(incident.id)
    rule = await routing_rule(session, category_code=incident.category_code, region_path=incident.region_path,
                              settings=settings)
    departments, missing = await departments_for(session, kinds=rule.department_kinds,
                                                 region_path=incident.region_path)
    preferred = await own_grid_workers(session, region_path=incident.region_path) if rule.own_grid_first else []
    warmup: Warmup | None = None
    try:
        claimed = await claim_nearest(session, redis, settings=settings, lon=incident.lon, lat=incident.lat,
                                      radius_m=rule.radius_m, need=rule.workers_needed, preferred=preferred)
    except LiveStateMissing as exc:  # debug: every alert of the gap would log it; the rebuild logs once
        log.debug("incident %s left located for the sweeper: %s", incident.id, exc)
        return Outcome(deferred=True)
    except PresenceWarmingUp as exc:  # nobody has reported since the rebuild yet: the workers' part waits
        if not departments:
            await hold_for_workers(session, incident=incident, warmup=exc.warmup, actor=actor)
            return Outcome(deferred=True)
        warmup, claimed = exc.warmup, ClaimResult(token=None)
    except RedisError as exc:  # Redis down: the alert is still stored and acknowledged; one log line per outage
        if not OUTAGES.note(exc, where="dispatch (incident left located for the sweeper)"):
            log.warning("incident %s left located for the sweeper: %s", incident.id, exc)
        return Outcome(deferred=True)

    now = utcnow()
    dept_orders = [
        Order(incident_id=incident.id, assignee_kind="department", department_code=d.code,
              role="lead" if i == 0 else "support", status=OrderStatus.sent.value, created_at=now, updated_at=now)
        for i, d in enumerate(departments)
    ]
    dept_orders = await insert_orders(session, dept_orders)
    for order in dept_orders:
        await record(session, incident=incident, actor=actor, kind="order.sent", order=order,
                     payload=order_payload(order))
    worker_orders = await offer_workers(
        session, redis, incident=incident, rule=rule, actor=actor,
        claims=[(c.worker_id, c.distance_m) for c in claimed.claims],
        first_role="support" if dept_orders else "lead")

    problems = []
    if warmup is not None:
        problems.append(waiting_reason(warmup))
    elif len(worker_orders) < rule.workers_needed:
        problems.append(reason(NO_WORKER, f"{len(worker_orders)} of {rule.workers_needed} workers available "
                                          f"within {rule.radius_m:.0f} m"))
    if missing:
        problems.append(reason(NO_DEPARTMENT, f"no {', '.join(missing)} department for {incident.region_code}"))
    orders = dept_orders + worker_orders
    if not orders and not problems:
        problems.append(reason(NO_WORKER, "the routing rule asks for no worker and no department"))
    why = "; ".join(problems)[:200] or None
    log.info("dispatch", extra={"departments": len(dept_orders), "workers": len(worker_orders),
                                "attention": bool(why) or not orders})
    if orders:
        incident.attention_reason = why
        await move_incident(session, incident=incident, to=I.dispatched, actor=actor, kind="incident.dispatched",
                            reason=why)
        if why:
            await record(session, incident=incident, actor=actor, reason=why,
                         kind="incident.waiting" if warmup is not None else "incident.attention")
    else:
        incident.attention_reason = why
        await move_incident(session, incident=incident, to=I.needs_attention, actor=actor,
                            kind="incident.needs_attention", reason=why)
    return Outcome(orders=orders)


async def replace_failed_offer(session: AsyncSession, redis: Redis, *, incident: Incident, settings: Settings,
                               actor: Actor) -> Order | None:
    """After a decline or timeout (already recorded, load released): count the failure, then offer the next
    nearest candidate, or alert the operators once the rule's attempts are spent or nobody is left."""
    incident.dispatch_attempts = (incident.dispatch_attempts or 0) + 1
    if IncidentStatus(incident.status) not in _REDISPATCHABLE:
        return None
    rule = await routing_rule(session, category_code=incident.category_code, region_path=incident.region_path,
                              settings=settings)
    if incident.dispatch_attempts >= rule.max_attempts:
        await raise_attention(session, incident=incident, actor=actor, why=reason(
            OFFERS_FAILED, f"{incident.dispatch_attempts} offers declined or timed out"))
        return None
    preferred = await own_grid_workers(session, region_path=incident.region_path) if rule.own_grid_first else []
    try:
        claimed = await claim_nearest(session, redis, settings=settings, lon=incident.lon, lat=incident.lat,
                                      radius_m=rule.radius_m, need=1, preferred=preferred,
                                      exclude=await worker_ids_on(session, incident.id))
    except LiveStateMissing as exc:
        # Roll the whole answer back: a timeout is retried by the sweeper, a decline by the worker.
        raise Unavailable("live dispatch state is being rebuilt; try again in a few seconds") from exc
    except PresenceWarmingUp as exc:  # the decline or timeout stands; the next offer waits for the workers
        await hold_for_workers(session, incident=incident, warmup=exc.warmup, actor=actor)
        return None
    if not claimed.claims:
        await raise_attention(session, incident=incident, actor=actor, why=reason(
            NO_WORKER, f"no other available worker within {rule.radius_m:.0f} m"))
        return None
    c = claimed.claims[0]
    [order] = await offer_workers(session, redis, incident=incident, rule=rule, actor=actor,
                                   claims=[(c.worker_id, c.distance_m)], first_role="lead")
    return order


_CLAIM_REFUSALS = {
    "unknown": "has no live state (never reported a position)",
    "off_duty": "is off duty",
    "busy": "is busy",
    "away": "has not reported a position recently",
    "full": "already holds as many orders as allowed",
}


async def override_dispatch(session: AsyncSession, redis: Redis, *, incident: Incident, worker_id: int,
                            settings: Settings, actor: Actor) -> Order:
    """An operator's choice of worker, claimed atomically like any other. The caller locked the incident."""
    worker = await session.get(Worker, worker_id)
    if worker is None:
        raise InvalidInput(f"worker {worker_id} does not exist")
    if IncidentStatus(incident.status) not in (_REDISPATCHABLE | {I.located, I.needs_attention, I.returned,
                                                                  I.reopened, I.suspended}):
        raise Conflict(f"an incident that is {incident.status} cannot be dispatched")
    if worker_id in await worker_ids_on(session, incident.id):
        held = await session.scalar(select(Order.id).where(
            Order.incident_id == incident.id, Order.worker_id == worker_id,
            Order.status.in_([s.value for s in ORDER_HOLDING])))
        if held is not None:
            raise Conflict(f"worker {worker_id} already holds order {held} for this incident")
    try:
        status = await claim_chosen(session, redis, settings=settings, worker_id=worker_id)
    except LiveStateMissing as exc:
        raise Unavailable("live dispatch state is being rebuilt; try again in a few seconds") from exc
    if status != "claimed":
        raise Conflict(f"worker {worker_id} {_CLAIM_REFUSALS.get(status, status)}", details={"status": status})
    rule = await routing_rule(session, category_code=incident.category_code, region_path=incident.region_path,
                              settings=settings)
    distance = await distance_to(redis, worker_id=worker_id, lon=incident.lon, lat=incident.lat)
    [order] = await offer_workers(session, redis, incident=incident, rule=rule, actor=actor,
                                   claims=[(worker_id, distance)], first_role="lead")
    incident.attention_reason = None
    if incident.status != I.dispatched and incident.status != I.in_progress:
        await move_incident(session, incident=incident, to=I.dispatched, actor=actor, kind="incident.dispatched",
                            reason=f"dispatched by {actor.name}")
    return order
