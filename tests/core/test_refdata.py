"""The per-process cache of reference data (command.core.refdata) and batched events (command.core.events.batched)."""

from __future__ import annotations

from sqlalchemy import insert, select

from command.core import refdata
from command.core.db import make_sessionmaker
from command.core.events import Actor, append_event, batched
from command.core.models import Category, Event, RoutingRule


def _fire() -> Category:
    return Category(code="fire", name_zh="火情", name_en="Fire", group="emergency", default_priority=1)


async def test_a_committed_change_is_seen_at_once(clean_db) -> None:
    sm = make_sessionmaker(clean_db)
    async with sm() as s:
        assert await refdata.category(s, "fire") is None  # cached: no such category
    async with sm() as s:
        s.add(_fire())
        await s.commit()
    async with sm() as s:
        cat = await refdata.category(s, "fire")
        assert cat is not None and cat.default_priority == 1
    async with sm() as s:
        s.add(RoutingRule(category_code="fire", workers_needed=2, department_kinds=[]))
        await s.commit()
    async with sm() as s:
        assert [r.workers_needed for r in await refdata.routing_rules(s, "fire")] == [2]
        # a Core INSERT through the session counts as a write as well
        await s.execute(insert(RoutingRule).values(category_code="fire", region_code="X", workers_needed=3))
        await s.commit()
    async with sm() as s:
        assert sorted(r.workers_needed for r in await refdata.routing_rules(s, "fire")) == [2, 3]


async def test_uncommitted_rows_never_reach_the_cache(clean_db) -> None:
    sm = make_sessionmaker(clean_db)
    async with sm() as s:
        assert await refdata.category(s, "fire") is None
    async with sm() as writer:
        writer.add(_fire())
        await writer.flush()
        assert await refdata.category(writer, "fire") is not None  # the writer sees its own row
        await writer.rollback()
        assert await refdata.category(writer, "fire") is None  # and, rolled back, no longer
    async with sm() as s:
        assert await refdata.category(s, "fire") is None  # nobody else ever saw it


async def test_batched_events_get_ids_in_order_on_leaving(clean_db) -> None:
    sm = make_sessionmaker(clean_db)
    async with sm() as s:
        async with batched(s):
            events = [await append_event(s, kind=f"test.{i}", actor=Actor.system("test")) for i in range(3)]
            assert all(e.id is None for e in events)  # not flushed one by one
        assert all(e.id is not None and e.txid is not None for e in events)
        assert [e.id for e in events] == sorted(e.id for e in events)
        await s.commit()
        kinds = list(await s.scalars(select(Event.kind).order_by(Event.id)))
        assert kinds == ["test.0", "test.1", "test.2"]
