"""The daily facts are exact: for several periods, levels and scopes the assessment's sums read through them equal
the raw query's, after the first pass, after random inserts and state changes (before the job has run: the
touched days fall back to the raw rows; after it: they are read from the table again), and when a transaction
that was open during a pass commits later."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
from geoalchemy2 import WKTElement
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from command.core.db import make_sessionmaker
from command.core.models import Callback, Deadline, Event, Incident
from command.reports import assessment, daily_facts
from command.reports.periods import Period, period_of
from tests import loop_world as w
from tests.reports.assessment_world import build

TZ = "Asia/Shanghai"
TODAY = date(2026, 5, 1)  # every day of the fixture (March 1st … early April) is closed
MARCH = period_of("month", date(2026, 3, 10))
PERIODS = (MARCH, period_of("month", date(2026, 4, 2)), period_of("half_month", date(2026, 3, 20)),
           period_of("week", date(2026, 3, 11)), period_of("day", date(2026, 3, 5)),
           period_of("range", date(2026, 3, 10), date(2026, 4, 3)))
LEVELS = ("district", "street", "community", "grid", "department", "worker")
SCOPES = (None, "D1", "D1S1", "D1S1C1")


@dataclass
class App:
    sessionmaker: async_sessionmaker[AsyncSession]


@pytest.fixture
async def app(clean_db: AsyncEngine) -> App:
    """The assessment fixture without a running app: no sweeper writes events behind the test's back."""
    sm = make_sessionmaker(clean_db)
    async with sm() as session, session.begin():
        world = await w.build(session)
    await build(sm, world, MARCH.bounds(TZ)[0])
    return App(sm)


async def _refresh(sm, today: date = TODAY) -> daily_facts.RefreshResult:  # type: ignore[no-untyped-def]
    async with sm() as session:
        await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        out = await daily_facts.refresh(session, tz=TZ, today=today, max_new_days=200)
        await session.commit()
    return out


async def _compare(session: AsyncSession, periods: tuple[Period, ...] = PERIODS) -> int:
    """Assert facts-backed sums == raw sums everywhere; the number of comparisons with any value."""
    checked = 0
    for period in periods:
        for level in LEVELS:
            for scope in SCOPES:
                req = assessment.Request(level, period, scope, TZ)
                got, want = await assessment.sums(session, req), await assessment.raw_sums(session, req)
                assert got == want, (period, level, scope)
                checked += bool(want)
    return checked


async def _fact_days(session: AsyncSession, period: Period = MARCH) -> set[date]:
    return await daily_facts.fact_days(session, period=period, tz=TZ)


async def test_equal_to_raw_after_inserts_and_changes(app) -> None:
    sm = app.sessionmaker
    first = await _refresh(sm)
    assert len(first.days) >= 33 and first.rows > 0
    async with sm() as session:
        assert len(await _fact_days(session)) == 31  # the table answers all of March
        assert await _compare(session) >= 80
        assert (await _refresh(sm)).days == []  # nothing touched: nothing redone

    rnd = random.Random(16)
    start, end = MARCH.bounds(TZ)
    touched: set[date] = set()
    async with sm() as s, s.begin():
        ids = list(await s.scalars(select(Incident.id).where(Incident.created_at >= start,
                                                             Incident.created_at < end).order_by(Incident.id)))
        for inc_id in rnd.sample(ids, 12):  # state changes, each with its event as the app writes them
            inc = await s.get(Incident, inc_id)
            assert inc is not None
            touched.add(daily_facts.local_today(inc.created_at, TZ))
            change = rnd.choice(("resolve", "close", "rate", "rework", "overdue", "transfer", "supervise"))
            if change == "resolve":
                inc.resolved_at, inc.status = inc.created_at + timedelta(hours=200), "resolved"
                s.add(Event(kind="incident.resolved", incident_id=inc_id, actor="t"))
            elif change == "close":
                inc.closed_at, inc.status = inc.created_at + timedelta(days=9), "closed"
                s.add(Event(kind="incident.closed", incident_id=inc_id, actor="t"))
            elif change == "rate":
                s.add(Callback(incident_id=inc_id, rating=rnd.choice(("satisfied", "dissatisfied")), via="phone"))
                s.add(Event(kind="incident.rated", incident_id=inc_id, actor="t"))
            elif change == "rework":
                s.add(Event(kind="incident.rework", incident_id=inc_id, actor="t"))
            elif change == "overdue":
                now = datetime.now(tz=inc.created_at.tzinfo)
                s.add(Deadline(key=f"x:{inc_id}", incident_id=inc_id, kind="resolve", due_at=now, overdue_at=now))
                s.add(Event(kind="deadline.overdue", incident_id=inc_id, actor="t"))
            elif change == "transfer":
                grid = rnd.choice(("D1S2C1G1", "D2S1C1G1", "D1S1C1G1"))
                inc.region_code, inc.region_path = grid, w.region_path(grid)
                s.add(Event(kind="incident.transferred", incident_id=inc_id, actor="t"))
            else:
                s.add(Event(kind="supervision.raised", incident_id=inc_id, actor="t"))
        for _ in range(8):  # new incidents on past days (a late 12345 hand-over keeps its creation time)
            created = start + timedelta(minutes=rnd.randrange(0, 31 * 24 * 60))
            grid = rnd.choice(("D1S1C1G1", "D1S2C1G1", "D2S1C1G1"))
            lon, lat = w.POINTS[grid]
            inc = Incident(public_id=uuid.uuid4(), category_code="road", description="迟到", priority=3,
                           status="resolved", channel="hotline", lon=lon, lat=lat,
                           geom=WKTElement(f"POINT({lon} {lat})", srid=4326), region_code=grid,
                           region_path=w.region_path(grid), created_at=created, updated_at=created,
                           resolved_at=created + timedelta(hours=3), resolve_due_at=created + timedelta(days=5))
            s.add(inc)
            await s.flush()
            s.add(Event(kind="incident.created", incident_id=inc.id, actor="t"))
            touched.add(daily_facts.local_today(created, TZ))
    async with sm() as session:
        clean = await _fact_days(session)
        assert clean and not clean & touched  # touched days are read raw until the job runs
        assert await _compare(session) >= 80
    again = await _refresh(sm)
    assert set(again.days) == touched
    async with sm() as session:
        assert len(await _fact_days(session)) == 31
        assert await _compare(session) >= 80


async def test_a_transaction_open_during_a_pass_is_caught(app) -> None:
    sm = app.sessionmaker
    await _refresh(sm)
    start, _ = MARCH.bounds(TZ)
    async with sm() as late:
        await late.begin()
        inc_id = await late.scalar(select(Incident.id).where(Incident.created_at >= start + timedelta(days=3))
                                   .order_by(Incident.id).limit(1))
        day = daily_facts.local_today((await late.get(Incident, inc_id)).created_at, TZ)  # type: ignore[union-attr]
        late.add(Event(kind="supervision.raised", incident_id=inc_id, actor="t"))
        await late.flush()  # its txid is taken now, before the pass's snapshot
        assert (await _refresh(sm)).days == []  # not visible yet
        await late.commit()
    async with sm() as session:
        assert day not in await _fact_days(session)  # still above the watermark: read raw
        assert await _compare(session, (MARCH,)) >= 10
    assert (await _refresh(sm)).days == [day]
    async with sm() as session:
        assert day in await _fact_days(session)
        assert await _compare(session, (MARCH,)) >= 10


async def test_today_and_other_zones_read_raw(app) -> None:
    sm = app.sessionmaker
    await _refresh(sm, today=date(2026, 3, 20))  # only March 1st … 19th are closed
    async with sm() as session:
        days = await _fact_days(session)
        assert max(days) == date(2026, 3, 19) and len(days) == 19
        assert await _compare(session, (MARCH,)) >= 10
        assert await daily_facts.fact_days(session, period=MARCH, tz="UTC") == set()
        assert not daily_facts.usable("worker", None)
        assert not daily_facts.usable("department", 2) and daily_facts.usable("department", 1)
        assert not daily_facts.usable("street", 2) and daily_facts.usable("grid", 2)
        n = await session.scalar(text("SELECT count(*) FROM daily_facts WHERE day >= '2026-03-20'"))
        assert n == 0


async def test_the_scheduler_runs_a_pass(app, redis) -> None:
    from command.ops.jobs import run
    from tests.environment import make_test_settings

    await run(make_test_settings(daily_facts_days_per_pass=5), app.sessionmaker, redis, once=True)
    async with app.sessionmaker() as session:
        assert await session.scalar(text("SELECT count(*) FROM daily_facts_state")) == 1
        assert await session.scalar(text("SELECT count(*) FROM daily_facts_days")) == 5  # the newest closed days
    await run(make_test_settings(daily_facts_interval_s=0), app.sessionmaker, redis, once=True)  # off: no pass
    async with app.sessionmaker() as session:
        assert await session.scalar(text("SELECT count(*) FROM daily_facts_days")) == 5
