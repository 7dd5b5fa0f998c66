"""Every move of the incident and order tables: an allowed one changes the row and records who, when,
from, to and why; an illegal one is refused (IllegalTransition → 409) and changes nothing."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from command.core.errors import IllegalTransition
from command.core.events import Actor
from command.core.lifecycle import INCIDENT_MOVES, ORDER_MOVES, IncidentStatus, OrderStatus
from command.core.models import Category, Event
from command.core.moves import move_incident, move_order
from tests import loop_world as w

ACTOR = Actor(name="tester", user_id=None)
INCIDENT_PAIRS = list(itertools.product(IncidentStatus, IncidentStatus))
ORDER_PAIRS = list(itertools.product(OrderStatus, OrderStatus))


@pytest.fixture(scope="module", autouse=True)
async def _empty(engine: AsyncEngine) -> None:
    """Start from empty tables (other modules commit rows); each test below then rolls back."""
    await w.truncate(engine)


async def _category(session: AsyncSession) -> None:
    session.add(Category(code="road", name_zh="道路", name_en="Road", group="service", default_priority=3,
                         item_type="promise"))
    await session.flush()


async def _events(session: AsyncSession) -> int:
    return await session.scalar(select(func.count()).select_from(Event))


def test_tables_cover_every_state() -> None:
    assert set(INCIDENT_MOVES) == set(IncidentStatus)
    assert set(ORDER_MOVES) == set(OrderStatus)


@pytest.mark.parametrize(("src", "dst"), INCIDENT_PAIRS, ids=[f"{a}->{b}" for a, b in INCIDENT_PAIRS])
async def test_incident_move(session: AsyncSession, src: IncidentStatus, dst: IncidentStatus) -> None:
    await _category(session)
    inc = await w.incident(session, status=src.value)
    before = await _events(session)
    if dst in INCIDENT_MOVES[src]:
        event = await move_incident(session, incident=inc, to=dst, actor=ACTOR, reason="because")
        assert inc.status == dst.value
        assert (event.from_state, event.to_state, event.actor, event.reason) == (src.value, dst.value, "tester",
                                                                                 "because")
        assert event.created_at is not None and event.incident_id == inc.id
        assert event.payload["incident"]["status"] == dst.value
        assert await _events(session) == before + 1
    else:
        with pytest.raises(IllegalTransition) as err:
            await move_incident(session, incident=inc, to=dst, actor=ACTOR)
        assert err.value.details == {"from": src.value, "to": dst.value}
        await session.refresh(inc)
        assert inc.status == src.value
        assert await _events(session) == before


@pytest.mark.parametrize(("src", "dst"), ORDER_PAIRS, ids=[f"{a}->{b}" for a, b in ORDER_PAIRS])
async def test_order_move(session: AsyncSession, src: OrderStatus, dst: OrderStatus) -> None:
    await _category(session)
    inc = await w.incident(session, status="dispatched")
    order = await w.order(session, inc, status=src.value)
    before = await _events(session)
    if dst in ORDER_MOVES[src]:
        event = await move_order(session, incident=inc, order=order, to=dst, actor=ACTOR, reason="why")
        assert order.status == dst.value
        assert (event.from_state, event.to_state, event.order_id, event.reason) == (src.value, dst.value, order.id,
                                                                                    "why")
        assert await _events(session) == before + 1
    else:
        with pytest.raises(IllegalTransition):
            await move_order(session, incident=inc, order=order, to=dst, actor=ACTOR)
        await session.refresh(order)
        assert order.status == src.value
        assert await _events(session) == before


async def test_unknown_state_is_refused(session: AsyncSession) -> None:
    await _category(session)
    inc = await w.incident(session, status="located")
    with pytest.raises(IllegalTransition, match="unknown incident state"):
        await move_incident(session, incident=inc, to="teleported", actor=ACTOR)
    await session.refresh(inc)
    assert inc.status == "located"
