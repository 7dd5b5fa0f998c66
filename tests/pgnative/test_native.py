"""The alert's native statements (pgnative.statements): in the session's transaction, same results as the ORM path."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from geoalchemy2 import WKTElement
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from command.assign.assignment import insert_orders
from command.assign.live import LIVE_LOCK, hold_live_lock
from command.core import txhooks
from command.core.db import make_sessionmaker
from command.core.events import Actor, append_event, batched
from command.core.models import Event, Incident, Order
from command.core.summaries import incident_summary
from command.intake.duplicates import find_duplicate
from command.intake.intake import AlertIn, submit_alert
from pgnative.orm import flush_column_changes
from pgnative.statements import Native
from tests import loop_world as w
from tests.dispatch_fixtures import redis_loads
from tests.dispatch_world import alert

_XACT = Native("SELECT pg_current_xact_id()::text")


async def test_first_statement_of_a_transaction_runs_in_it(clean_db) -> None:
    """The adapter sends BEGIN lazily; a native statement first in a transaction must not run in autocommit."""
    sm = make_sessionmaker(clean_db)
    async with sm() as s:
        async with s.begin():
            native = await _XACT.fetchval(s)
            assert native == (await s.execute(text("SELECT pg_current_xact_id()::text"))).scalar()
    async with sm() as s:
        await s.begin()
        await Native("INSERT INTO events (kind, actor, region_path, payload) VALUES (:kind, 'test', '{}', '{}')") \
            .fetch(s, kind="native.first")  # the first statement of the transaction
        await s.rollback()
    async with sm() as s:  # the second transaction of a session begins afresh as well
        async with s.begin():
            first = await _XACT.fetchval(s)
        await s.begin()
        assert await _XACT.fetchval(s) != first
        await Native("INSERT INTO events (kind, actor, region_path, payload) VALUES (:kind, 'test', '{}', '{}')") \
            .fetch(s, kind="native.first")
        await s.rollback()
    async with sm() as s:
        assert await s.scalar(select(func.count()).select_from(Event).where(Event.kind == "native.first")) == 0


async def test_hold_live_lock_takes_the_shared_lock_in_the_transaction(clean_db) -> None:
    async with make_sessionmaker(clean_db)() as s, s.begin():
        await hold_live_lock(s)
        held = await Native(
            "SELECT mode, granted FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'advisory' "
            "AND objid = :k").fetch(s, k=LIVE_LOCK & 0xFFFFFFFF)
        assert [tuple(r) for r in held] == [("ShareLock", True)]


async def test_batched_events_written_natively_as_the_orm_writes_them(clean_db) -> None:
    sm = make_sessionmaker(clean_db)
    async with sm() as s:
        await w.build(s)
        inc = await w.incident(s)
        await s.commit()
    actor = Actor("someone", None)
    payload = {"a": [1, 2.5, None], "b": {"c": "中文"}, "n": 3}
    async with sm() as s:
        inc = await s.get(Incident, inc.id)
        plain = await append_event(s, kind="test.orm", actor=actor, incident=inc, from_state="x", to_state="y",
                                   reason="why", payload=payload)
        async with batched(s):
            batch = [await append_event(s, kind=f"test.native.{i}", actor=actor, incident=inc, from_state="x",
                                        to_state="y", reason="why", payload=payload) for i in range(3)]
            assert all(e.id is None for e in batch)
        assert [e.id for e in batch] == sorted(e.id for e in batch) and batch[0].id > plain.id
        assert all(e.txid == plain.txid and e.created_at == plain.created_at for e in batch)
        await s.commit()
    cols = (Event.incident_id, Event.order_id, Event.actor, Event.actor_user_id, Event.from_state, Event.to_state,
            Event.reason, Event.region_path, Event.worker_id, Event.department_code, Event.payload, Event.txid,
            Event.created_at)
    async with sm() as s:
        rows = (await s.execute(select(Event.kind, *cols).order_by(Event.id))).all()
    assert [r[0] for r in rows] == ["test.orm", "test.native.0", "test.native.1", "test.native.2"]
    assert all(tuple(r[1:]) == tuple(rows[0][1:]) for r in rows)  # the same row but for the kind
    assert rows[0].payload == payload and rows[0].region_path == list(inc.region_path)


async def test_batched_events_survive_an_error_the_caller_catches(clean_db) -> None:
    """As before the native INSERT: events appended in a block that raised are written if the caller commits."""
    sm = make_sessionmaker(clean_db)
    async with sm() as s:
        with pytest.raises(RuntimeError):
            async with batched(s):
                await append_event(s, kind="test.before_error", actor=Actor.system("test"))
                raise RuntimeError("boom")
        await s.commit()
        assert await s.scalar(select(func.count()).select_from(Event).where(Event.kind == "test.before_error")) == 1


async def test_find_duplicate_sees_pending_changes_of_other_incidents(clean_db, session: AsyncSession) -> None:
    """The native query does not autoflush; pending changes to other incidents are flushed first."""
    await w.build(session)
    now = await session.scalar(select(func.now()))
    first = await w.incident(session, created_at=now - timedelta(minutes=5))
    new = await w.incident(session, created_at=now)
    kwargs = dict(category_code=new.category_code, lon=new.lon, lat=new.lat, at=now, exclude_id=new.id)
    assert (await find_duplicate(session, **kwargs)).id == first.id
    first.status = "closed"  # not flushed
    assert await find_duplicate(session, **kwargs) is None
    first.status = "located"
    new.status = "dispatched"  # the excluded incident's own changes may wait
    found = await find_duplicate(session, **kwargs)
    assert found is not None and found is not first and incident_summary(found) == incident_summary(first)
    assert await find_duplicate(session, **{**kwargs, "at": now - timedelta(hours=2)}) is None  # window
    far = dict(kwargs, lon=new.lon + 0.01)
    assert await find_duplicate(session, **far) is None  # ~960 m away


async def test_alert_inserted_natively_is_in_the_session_and_the_transaction(world, dsettings, redis, clean_db) -> None:
    """The incident row is written in the caller's transaction (rolled back with it), the live lock is taken by
    that INSERT, and the Incident object behaves as loaded: its later moves are UPDATEs."""
    sm = make_sessionmaker(clean_db)
    body = alert()
    async with sm() as s:
        await s.begin()
        done = await submit_alert(s, redis, alert=AlertIn(**body), actor=Actor("op", None), settings=dsettings)
        assert done.created and done.incident.status == "dispatched" and done.incident in s
        assert done.incident.geom is not None and done.incident.dispatch_attempts == 0
        held = await Native("SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'advisory' "
                            "AND mode = 'ShareLock' AND objid = :k").fetchval(s, k=LIVE_LOCK & 0xFFFFFFFF)
        assert held == 1
        row = (await s.execute(select(Incident.status, Incident.respond_due_at, func.ST_AsText(Incident.geom))
                               .where(Incident.id == done.incident.id))).one()
        assert row[0] == "dispatched" and row[1] == done.incident.respond_due_at
        assert row[2] == f"POINT({body['lon']!r} {body['lat']!r})"
        await s.rollback()
    await txhooks.drain()
    async with sm() as s:
        assert await s.scalar(select(func.count()).select_from(Incident)) == 0
        assert await s.scalar(select(func.count()).select_from(Event)) == 0
    assert await redis_loads(redis) == {}  # the claim was given back


async def test_orders_inserted_natively_are_loaded_objects_of_the_session(clean_db, session: AsyncSession) -> None:
    await w.build(session)
    inc = await w.incident(session)
    now = await session.scalar(select(func.now()))
    new = [Order(incident_id=inc.id, assignee_kind="department", department_code=code, status="sent",
                 created_at=now, updated_at=now) for code in ("water_co", "power_co")]
    orders = await insert_orders(session, new)
    assert [o.department_code for o in orders] == ["water_co", "power_co"] and orders[0].id < orders[1].id
    assert all(o in session and o.role == "lead" and o.due_at is None for o in orders)  # the column default
    ids = [o.id for o in orders]
    orders[1].status = "signed_for"
    await session.flush()
    rows = (await session.execute(select(Order.id, Order.status).where(Order.incident_id == inc.id)
                                  .order_by(Order.id).execution_options(populate_existing=True))).all()
    assert [tuple(r) for r in rows] == [(ids[0], "sent"), (ids[1], "signed_for")]


async def test_column_changes_written_natively_and_marked_stored(clean_db) -> None:
    """flush_column_changes writes plain column updates of loaded rows and clears their history (the unit of work
    then has nothing to do for them); a change it cannot write plainly (geometry), or a session with something
    new in it, is left to the session's flush."""
    sm = make_sessionmaker(clean_db)
    async with sm() as s:
        await w.build(s)
        a, b = await w.incident(s), await w.incident(s)
        await s.commit()
    stamp = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    async with sm() as s:
        a, b = await s.get(Incident, a.id), await s.get(Incident, b.id)
        a.status, a.updated_at, a.attention_reason, a.region_path = "dispatched", stamp, "为何", ["D1", "D1S1"]
        b.status, b.geom = "dispatched", WKTElement("POINT(118.5 32.5)", srid=4326)
        await flush_column_changes(s, Incident)
        assert not s.is_modified(a) and s.is_modified(b)  # b's geometry waits for the unit of work
        row = (await s.execute(text("SELECT status, updated_at, attention_reason, region_path FROM incidents "
                                    "WHERE id = :i"), {"i": a.id})).one()
        assert tuple(row) == ("dispatched", stamp, "为何", ["D1", "D1S1"])
        s.add(Event(kind="test.new", actor="test", region_path=[], payload={}))
        a.status = "in_progress"
        await flush_column_changes(s, Incident)  # something new in the session: all left to the flush
        assert s.is_modified(a)
        await s.commit()
    async with sm() as s:
        a, b = await s.get(Incident, a.id), await s.get(Incident, b.id)
        assert (a.status, a.attention_reason, b.status) == ("in_progress", "为何", "dispatched")
        assert await s.scalar(text("SELECT ST_AsText(geom) FROM incidents WHERE id = :i"), {"i": b.id}) \
            == "POINT(118.5 32.5)"
