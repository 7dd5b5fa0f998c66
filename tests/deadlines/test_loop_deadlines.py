"""Deadlines: limits from the defaults and the rules table (deepest region wins), scheduling, and the
scheduler — reminder before, overdue after, supervision one level up the region chain and further while
it stays overdue; each fired exactly once, also by two real scheduler processes across a restart."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from command.core.db import make_sessionmaker
from command.core.models import DEADLINE_KINDS, Deadline, DeadlineRule, Event
from command.deadlines.deadlines import adopt, schedule_incident, schedule_order
from command.deadlines.rules import DAY, DEFAULTS, HOUR, Limit, limit_for, pick
from command.deadlines.scheduler import fire_due
from dispatch import keys
from tests import loop_procs
from tests import loop_world as w
from tests.environment import make_test_settings
from tests.procs import server_env

TZ = ZoneInfo("Asia/Shanghai")
PATH = ["D1", "D1S1", "D1S1C1", "D1S1C1G1"]


@pytest.fixture(scope="module", autouse=True)
async def _empty(engine: AsyncEngine) -> None:
    """Start from empty tables (other modules commit rows); the session tests then roll back."""
    await w.truncate(engine)


def _pick(kind: str, *, category: str = "road", channel: str | None = "app", priority: int | None = 3,
          extra: tuple[Limit, ...] = ()) -> Limit | None:
    return pick([*DEFAULTS, *extra], kind=kind, category_code=category, region_path=PATH, channel=channel,
                priority=priority)


def test_default_limits_follow_domain() -> None:
    assert _pick("resolve").limit_workdays == 5
    assert _pick("resolve", channel="patrol").limit_s == DAY
    assert _pick("respond").same_day
    assert _pick("respond", channel="sensor") is None  # an alarm has no resident to answer
    assert [_pick(k, category="petition").limit_workdays for k in ("respond", "feedback", "resolve")] == [3, 5, 15]
    assert [_pick("sign_for", priority=p).limit_s for p in (1, 2, 3, 4)] == [30 * 60, 2 * HOUR, DAY, DAY]


def test_deepest_region_rule_wins() -> None:
    district = Limit("resolve", 3 * DAY, category_code="road", region_code="D1", source="rule:1")
    street = Limit("resolve", 2 * DAY, region_code="D1S1", source="rule:2")
    other = Limit("resolve", DAY, region_code="D2", source="rule:3")
    assert _pick("resolve", extra=(district,)).limit_s == 3 * DAY
    assert _pick("resolve", extra=(district, street, other)).limit_s == 2 * DAY  # deeper beats category
    category_rule = Limit("resolve", 4 * DAY, category_code="road", source="rule:4")
    assert _pick("resolve", channel="patrol", extra=(category_rule,)).limit_s == 4 * DAY  # category > channel


def test_same_day_ends_at_local_midnight() -> None:
    start = datetime(2026, 3, 1, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai
    due = Limit("respond", same_day=True).due(start, TZ)
    assert due == datetime(2026, 3, 1, 23, 59, 59, tzinfo=TZ)


async def test_rules_table_and_scheduling(session: AsyncSession) -> None:
    await w.build(session)
    session.add(DeadlineRule(kind="resolve", region_code="D1S1", limit_s=2 * DAY, remind_before_s=HOUR))
    session.add(DeadlineRule(kind="resolve", category_code="road", region_code="D1", limit_s=3 * DAY))
    await session.flush()
    limit = await limit_for(session, kind="resolve", category_code="road", region_path=PATH, channel="app")
    assert limit.limit_s == 2 * DAY and limit.source.startswith("rule:")
    inc = await w.incident(session)
    await schedule_incident(session, incident=inc, tz=TZ)
    await schedule_incident(session, incident=inc, tz=TZ)  # idempotent
    rows = {d.kind: d for d in await session.scalars(select(Deadline).where(Deadline.incident_id == inc.id))}
    assert set(rows) == {"respond", "resolve"}
    assert rows["resolve"].due_at == inc.resolve_due_at == inc.created_at + timedelta(days=2)
    assert rows["resolve"].remind_at == inc.resolve_due_at - timedelta(hours=1)
    assert inc.respond_due_at.astimezone(TZ).time().isoformat() == "23:59:59"
    order = await w.order(session, inc)
    await schedule_order(session, order=order, incident=inc, tz=TZ)
    assert order.ack_due_at == order.created_at + timedelta(days=1)  # P3 sign-for limit
    # An incident or order created by a path that did not schedule it is adopted.
    orphan = await w.incident(session, category="petition")
    assert await adopt(session, tz=TZ, batch=100) >= 1
    kinds = set(await session.scalars(select(Deadline.kind).where(Deadline.incident_id == orphan.id)))
    assert kinds == {"respond", "feedback", "resolve"}


async def _deadline(session: AsyncSession, inc, *, kind: str = "resolve", remind_in: float | None, due_in: float,
                    now: datetime, key: str, order_id: int | None = None) -> Deadline:
    d = Deadline(key=key, incident_id=inc.id, order_id=order_id, kind=kind, due_at=now + timedelta(seconds=due_in),
                 remind_at=now + timedelta(seconds=remind_in) if remind_in is not None else None)
    session.add(d)
    await session.flush()
    return d


async def _fired(session: AsyncSession) -> list[tuple[str, int, int | None]]:
    rows = await session.execute(select(Event.kind, Event.payload).where(Event.kind.in_(
        ["deadline.reminder", "deadline.overdue", "supervision.raised"])).order_by(Event.id))
    return [(k, p["deadline"]["id"], (p.get("supervision") or {}).get("level")) for k, p in rows]


async def test_reminder_overdue_supervision_each_once(session: AsyncSession) -> None:
    await w.build(session)
    now = datetime.now(UTC)
    inc = await w.incident(session, status="dispatched")
    d = await _deadline(session, inc, remind_in=10, due_in=20, now=now, key="t1")
    assert (await fire_due(session, now=now, batch=50, escalate_s=100)).ids == []
    f = await fire_due(session, now=now + timedelta(seconds=11), batch=50, escalate_s=100)
    assert f.ids == [(d.id, "reminder")]
    assert (await fire_due(session, now=now + timedelta(seconds=12), batch=50, escalate_s=100)).ids == []
    f = await fire_due(session, now=now + timedelta(seconds=21), batch=50, escalate_s=100)
    assert f.ids == [(d.id, "overdue"), (d.id, "supervision:1")]
    # Supervision climbs one level each escalation period, up to the top of the chain, then stops.
    for level, at in ((2, 122), (3, 223)):
        f = await fire_due(session, now=now + timedelta(seconds=at), batch=50, escalate_s=100)
        assert f.ids == [(d.id, f"supervision:{level}")]
    assert (await fire_due(session, now=now + timedelta(seconds=900), batch=50, escalate_s=100)).ids == []
    events = (await session.execute(select(Event.payload, Event.reason)
                                    .where(Event.kind == "supervision.raised").order_by(Event.id))).all()
    assert [p["supervision"]["region_code"] for p, _ in events] == ["D1S1C1", "D1S1", "D1"]
    # The reason starts with a code the pages translate (attention.overdue_<kind>), the region after it.
    assert [r for _, r in events] == [f"overdue_{d.kind}: D1S1C1", f"overdue_{d.kind}: D1S1", f"overdue_{d.kind}: D1"]
    assert await _fired(session) == [("deadline.reminder", d.id, None), ("deadline.overdue", d.id, None),
                                     ("supervision.raised", d.id, 1), ("supervision.raised", d.id, 2),
                                     ("supervision.raised", d.id, 3)]


async def test_met_deadlines_do_not_fire(session: AsyncSession) -> None:
    await w.build(session)
    now = datetime.now(UTC)
    resolved = await w.incident(session, status="resolved")
    signed = await w.incident(session, status="in_progress")
    order = await w.order(session, signed, status="signed_for", accepted_at=now)
    d1 = await _deadline(session, resolved, remind_in=1, due_in=2, now=now, key="m1")
    d2 = await _deadline(session, signed, kind="sign_for", remind_in=1, due_in=2, now=now, key="m2",
                         order_id=order.id)
    d3 = await _deadline(session, signed, kind="respond", remind_in=None, due_in=2, now=now, key="m3")
    f = await fire_due(session, now=now + timedelta(seconds=5), batch=50, escalate_s=100)
    assert f.ids == [] and f.met == 3
    for d in (d1, d2, d3):
        await session.refresh(d)
        assert d.met_at is not None and d.overdue_at is None
    assert await _fired(session) == []


@pytest.mark.timeout(90)
async def test_each_deadline_fires_once_across_two_processes_and_a_restart(clean_db: AsyncEngine,
                                                                           redis: Redis) -> None:
    settings = make_test_settings()
    sm = make_sessionmaker(clean_db)
    n = 40
    async with sm() as session, session.begin():
        await w.build(session)
        incidents = [await w.incident(session, status="dispatched") for _ in range(n)]
    env = server_env(settings, GRIDCMD_SUPERVISION_ESCALATE_S="1", GRIDCMD_LOG_LEVEL="warning")
    procs = [loop_procs.start(env), loop_procs.start(env)]
    try:
        await loop_procs.ready(procs)
        # Reminders in the next 2 s (both processes running), deadlines 5 s after each reminder: after the
        # first two processes are gone, so overdue and supervision fire across the restart.
        start = datetime.now(UTC) + timedelta(seconds=1)
        ids = []
        async with sm() as session, session.begin():
            for i, inc in enumerate(incidents):
                d = await _deadline(session, inc, remind_in=i * 0.05, due_in=i * 0.05 + 5, now=start, key=f"p{i}")
                ids.append(d.id)
        await asyncio.sleep(3.5)
        procs[0].send_signal(signal.SIGKILL)  # one dies at any line…
        loop_procs.stop(procs[1])             # …the other stops: nothing runs for a while
        procs[0].wait()
        await asyncio.sleep(1.5)
        procs += [loop_procs.start(env), loop_procs.start(env)]  # the restart
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            async with sm() as session:
                raised = await session.scalar(select(func.count()).select_from(Event).where(
                    Event.kind == "supervision.raised"))
            if raised >= 3 * n:
                break
            await asyncio.sleep(0.5)
        await asyncio.sleep(1.5)  # anything extra would show up now
    finally:
        for p in procs:
            loop_procs.stop(p)
    async with sm() as session:
        fired = await _fired(session)
        by = Counter((k, d, lvl) for k, d, lvl in fired)
        pids = set(await session.scalars(select(Event.payload["fired_by"].astext).where(
            Event.kind.like("deadline.%"))))
    logs = loop_procs.logs(procs)
    for d in ids:
        assert by[("deadline.reminder", d, None)] == 1, logs
        assert by[("deadline.overdue", d, None)] == 1, logs
        assert [by[("supervision.raised", d, lvl)] for lvl in (1, 2, 3)] == [1, 1, 1], logs
    assert len(fired) == 5 * n
    assert len(pids) >= 2  # the work was really shared between processes
    # The events reached the live stream the screens read.
    entries = await redis.xrange(keys.STREAM)
    kinds = Counter(f.get("kind") for _, f in entries)
    assert kinds["deadline.overdue"] == n and kinds["supervision.raised"] == 3 * n


def test_every_deadline_kind_has_a_translated_supervision_reason() -> None:
    for lang in ("zh-CN", "en"):
        catalogue = json.loads((Path(__file__).resolve().parents[2] / "web" / "i18n" / f"{lang}.json")
                               .read_text(encoding="utf-8"))
        assert {f"attention.overdue_{k}" for k in DEADLINE_KINDS} <= catalogue.keys(), lang
