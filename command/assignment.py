"""Dispatch: routing rule → departments and the nearest available workers → orders, or "needs attention".

`dispatch_incident` runs inside the caller's transaction (intake request, sweeper job). Claims happen in
Redis before any order is written, so a Redis failure leaves the incident `located` (nothing written) for the
sweeper to re-drive; a database failure after the claim rolls back and the undo hook gives the load back."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from command import txhooks
from command.errors import Conflict, InvalidInput, Unavailable
from command.events import Actor
from command.lifecycle import ORDER_HOLDING, IncidentStatus, OrderStatus
from command.loads import claim_chosen, claim_nearest
from command.models import Incident, Order, Worker
from command.moves import move_incident, record, utcnow
from command.native import attach_loaded
from command.routing import Rule, departments_for, own_grid_workers, routing_rule
from command.settings import Settings
from command.summaries import order_payload
from dispatch import timers
from dispatch.assign import LiveStateMissing, distance_to
from geo.native import Native

log = logging.getLogger(__name__)

I = IncidentStatus  # noqa: E741

# Attention reasons start with a stable code (screens translate it), then the detail.
OUTSIDE = "outside"
NO_WORKER = "no_worker"
NO_DEPARTMENT = "no_department"
OFFERS_FAILED = "offers_failed"
# Incident states in which a failed offer is replaced by the next candidate.
_REDISPATCHABLE = frozenset({I.dispatched, I.in_progress})


def reason(code: str, detail: str) -> str:
    return f"{code}: {detail}"[:200]


@dataclass(slots=True)
class Outcome:
    orders: list[Order] = field(default_factory=list)
    deferred: bool = False  # live state missing or Redis unreachable: left `located`, the sweeper retries


async def _worker_ids_on(session: AsyncSession, incident_id: int) -> list[int]:
    """Workers who already had an order for this incident (never offered it twice)."""
    return list((await session.scalars(
        select(Order.worker_id).where(Order.incident_id == incident_id, Order.assignee_kind == "worker")
    )).all())


_ORDER_COLUMNS = tuple(c.name for c in Order.__table__.columns if c.name != "id")  # type: ignore[attr-defined]
_ORDER_TYPES = {"incident_id": "bigint", "worker_id": "integer", "distance_m": "float8"}
_ORDER_DEFAULTS = {c.name: c.default.arg for c in Order.__table__.columns  # type: ignore[attr-defined]
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


async def _offer_workers(session: AsyncSession, redis: Redis, *, incident: Incident, rule: Rule,
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
    """Dispatch a `located` incident: department orders, worker orders, then dispatched or needs_attention."""
    rule = await routing_rule(session, category_code=incident.category_code, region_path=incident.region_path,
                              settings=settings)
    departments, missing = await departments_for(session, kinds=rule.department_kinds,
                                                 region_path=incident.region_path)
    preferred = await own_grid_workers(session, region_path=incident.region_path) if rule.own_grid_first else []
    try:
        claimed = await claim_nearest(session, redis, settings=settings, lon=incident.lon, lat=incident.lat,
                                      radius_m=rule.radius_m, need=rule.workers_needed, preferred=preferred)
    except (LiveStateMissing, RedisError) as exc:
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
    worker_orders = await _offer_workers(
        session, redis, incident=incident, rule=rule, actor=actor,
        claims=[(c.worker_id, c.distance_m) for c in claimed.claims],
        first_role="support" if dept_orders else "lead")

    problems = []
    if len(worker_orders) < rule.workers_needed:
        problems.append(reason(NO_WORKER, f"{len(worker_orders)} of {rule.workers_needed} workers available "
                                          f"within {rule.radius_m:.0f} m"))
    if missing:
        problems.append(reason(NO_DEPARTMENT, f"no {', '.join(missing)} department for {incident.region_code}"))
    orders = dept_orders + worker_orders
    if not orders and not problems:
        problems.append(reason(NO_WORKER, "the routing rule asks for no worker and no department"))
    why = "; ".join(problems)[:200] or None
    if orders:
        incident.attention_reason = why
        await move_incident(session, incident=incident, to=I.dispatched, actor=actor, kind="incident.dispatched",
                            reason=why)
        if why:
            await record(session, incident=incident, actor=actor, kind="incident.attention", reason=why)
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
                                      exclude=await _worker_ids_on(session, incident.id))
    except LiveStateMissing as exc:
        # Roll the whole answer back: a timeout is retried by the sweeper, a decline by the worker.
        raise Unavailable("live dispatch state is being rebuilt; try again in a few seconds") from exc
    if not claimed.claims:
        await raise_attention(session, incident=incident, actor=actor, why=reason(
            NO_WORKER, f"no other available worker within {rule.radius_m:.0f} m"))
        return None
    c = claimed.claims[0]
    [order] = await _offer_workers(session, redis, incident=incident, rule=rule, actor=actor,
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
    if worker_id in await _worker_ids_on(session, incident.id):
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
    [order] = await _offer_workers(session, redis, incident=incident, rule=rule, actor=actor,
                                   claims=[(worker_id, distance)], first_role="lead")
    incident.attention_reason = None
    if incident.status != I.dispatched and incident.status != I.in_progress:
        await move_incident(session, incident=incident, to=I.dispatched, actor=actor, kind="incident.dispatched",
                            reason=f"dispatched by {actor.name}")
    return order
