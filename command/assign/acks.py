"""A worker's (or department's) answer to an order: accept, decline, time out, resolve.

Each runs in the caller's transaction and takes, in this order, the shared live lock, the incident row, the
order row (command.core.moves' lock order). Decline, timeout and resolution release the worker's load; a decline or
timeout then offers the incident to the next nearest candidate (command.assign.assignment)."""

from __future__ import annotations

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from command.assign.assignment import replace_failed_offer
from command.assign.live import hold_live_lock
from command.assign.loads import release_load
from command.core import txhooks
from command.core.clock import utcnow
from command.core.errors import Forbidden, InvalidInput, NotFound
from command.core.events import Actor
from command.core.lifecycle import ORDER_OFFERED, IncidentStatus, OrderStatus
from command.core.models import Incident, Order
from command.core.moves import lock_order, move_incident, move_order
from command.core.security import Principal
from command.core.settings import Settings
from command.core.telemetry import OFFERS_TIMED_OUT
from command.orders.liaison import sign_for
from command.orders.work_orders import maybe_resolve
from dispatch import timers

O, I = OrderStatus, IncidentStatus  # noqa: E741
MAX_TEXT = 1000


def check_order_visible(principal: Principal, order: Order) -> None:
    """A worker sees only their own orders, a liaison only their department's; else the order "does not exist"."""
    if principal.role == "worker" and (order.worker_id is None or order.worker_id != principal.worker_id):
        raise NotFound(f"order {order.id} not found")
    if principal.role == "liaison" and (order.department_code is None
                                        or order.department_code != principal.department_code):
        raise NotFound(f"order {order.id} not found")


def _check_assignee(principal: Principal, order: Order) -> None:
    check_order_visible(principal, order)
    if order.assignee_kind == "worker" and principal.role != "worker":
        raise Forbidden("only the assigned worker may answer a worker's order")
    if order.assignee_kind == "department" and principal.role != "liaison":
        raise Forbidden("only the department's liaison may answer a department's order")


def _text(value: str | None, what: str, *, required: bool) -> str | None:
    value = (value or "").strip()
    if required and not value:
        raise InvalidInput(f"a {what} is required")
    if len(value) > MAX_TEXT:
        raise InvalidInput(f"{what} longer than {MAX_TEXT} characters")
    return value or None


def _cancel_timer(session: AsyncSession, redis: Redis, order: Order) -> None:
    async def cancel() -> None:
        await timers.cancel(redis, [order.id])

    txhooks.on_commit(session, cancel)


async def _locked(session: AsyncSession, principal: Principal, order_id: int) -> tuple[Incident, Order]:
    await hold_live_lock(session)
    incident, order = await lock_order(session, order_id)
    _check_assignee(principal, order)
    return incident, order


async def accept_order(session: AsyncSession, redis: Redis, *, order_id: int, principal: Principal) -> Order:
    """Take the order: a worker accepts, a liaison signs for (签收). The incident goes in progress."""
    incident, order = await _locked(session, principal, order_id)
    if order.assignee_kind == "department":
        return await sign_for(session, order_id=order_id, principal=principal)
    actor = Actor(principal.username, principal.user_id)
    await move_order(session, incident=incident, order=order, to=O.accepted, actor=actor, kind="order.accepted")
    _cancel_timer(session, redis, order)
    if incident.status == I.dispatched:
        await move_incident(session, incident=incident, to=I.in_progress, actor=actor, order=order,
                            kind="incident.in_progress", reason=f"accepted by worker {order.worker_id}")
    return order


async def _fail_offer(session: AsyncSession, redis: Redis, *, incident: Incident, order: Order, to: OrderStatus,
                      why: str | None, actor: Actor, settings: Settings) -> Order | None:
    await move_order(session, incident=incident, order=order, to=to, actor=actor, kind=f"order.{to.value}",
                     reason=why)
    _cancel_timer(session, redis, order)
    if order.assignee_kind == "worker":
        await release_load(session, redis, settings=settings, worker_ids=[order.assigned_worker_id()])
        return await replace_failed_offer(session, redis, incident=incident, settings=settings, actor=actor)
    return None


async def decline_order(session: AsyncSession, redis: Redis, *, order_id: int, principal: Principal, reason: str,
                        settings: Settings) -> tuple[Order, Order | None]:
    """Decline with a reason; the worker is released and the next candidate offered. Returns (order, next)."""
    why = _text(reason, "reason", required=True)
    incident, order = await _locked(session, principal, order_id)
    if order.assignee_kind != "worker":
        raise Forbidden("a department sends an order back (退单) rather than declining it")
    nxt = await _fail_offer(session, redis, incident=incident, order=order, to=O.declined, why=why,
                            actor=Actor(principal.username, principal.user_id), settings=settings)
    return order, nxt


async def expire_offer(session: AsyncSession, redis: Redis, *, order_id: int, settings: Settings) -> bool:
    """Time out an offer past its ack deadline (timer worker or sweeper). False if it was answered meanwhile."""
    await hold_live_lock(session)
    try:
        incident, order = await lock_order(session, order_id)
    except NotFound:
        return False  # a timer for an order whose transaction rolled back
    if (order.status not in {s.value for s in ORDER_OFFERED} or order.ack_due_at is None
            or order.ack_due_at > utcnow()):
        return False
    OFFERS_TIMED_OUT.inc()
    await _fail_offer(session, redis, incident=incident, order=order, to=O.timed_out,
                      why=f"not accepted within the limit ({order.ack_due_at.isoformat()})",
                      actor=Actor.system("ack-timer"), settings=settings)
    return True


async def resolve_order(session: AsyncSession, redis: Redis, *, order_id: int, principal: Principal, note: str,
                        settings: Settings) -> Order:
    """A worker reports their order done with a note; the worker is released, and the incident is resolved
    once every live order is done (command.orders.work_orders.maybe_resolve). Departments report through the
    liaison's feedback flow (command.orders.liaison)."""
    text = _text(note, "note", required=True)
    incident, order = await _locked(session, principal, order_id)
    if order.assignee_kind != "worker":
        raise Forbidden("a department reports its work order done through the liaison feedback (反馈)")
    actor = Actor(principal.username, principal.user_id)
    await move_order(session, incident=incident, order=order, to=O.done, actor=actor, kind="order.done", reason=text,
                     payload={"note": text})
    await release_load(session, redis, settings=settings, worker_ids=[order.assigned_worker_id()])
    await maybe_resolve(session, incident=incident, actor=actor)
    return order
