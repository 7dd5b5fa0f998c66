"""Worker tracks: position reports over HTTP reach worker_positions through the buffer and one COPY; a day's replay
has every point, time on duty and distance by the 5-minute rule, the grids passed and the incidents reported on
the way, within the caller's scope only; day partitions are made ahead and purged; the buffer stays bounded."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from pyproj import Geod
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from command.assign import tracks
from command.ops.tracks import ensure_partitions, partition_name, purge_tracks_before
from dispatch import keys
from tests import loop_world as w
from tests.environment import make_test_settings
from web.track_tasks import flush

TZ = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 11, 20)
FAR = date(2031, 1, 1)


@pytest.fixture
async def app(clean_db: AsyncEngine):
    async with w.loop_app(clean_db, make_test_settings()) as app:
        yield app


async def _count(app, worker_id: int) -> int:
    async with app.sessionmaker() as s:
        return int(await s.scalar(text("SELECT count(*) FROM worker_positions WHERE worker_id = :w"),
                                  {"w": worker_id}) or 0)


async def test_reports_are_persisted_off_the_position_path(app) -> None:
    c, wid = app.client, app.world.worker_id
    now = datetime.now(UTC)
    batch = {"positions": [{"lon": 120.05, "lat": 30.05 + n * 0.0001, "ts": (now - timedelta(seconds=60 - n * 20))
                            .isoformat()} for n in range(3)]}
    r = await c.post("/api/v1/workers/me/position", json=batch, headers=await app.as_("w1"))
    assert r.status_code == 200, r.text
    r = await c.post("/api/v1/workers/me/position", json={"lon": 120.051, "lat": 30.05}, headers=await app.as_("w1"))
    assert r.status_code == 200
    await flush(app.sessionmaker)  # the app's writer may have been first: either way, all four are there
    for _ in range(30):
        if await _count(app, wid) == 4:
            break
        await asyncio.sleep(0.1)
    assert await _count(app, wid) == 4
    # Refused reports are not kept.
    r = await c.post("/api/v1/workers/me/position", json={"lon": 500, "lat": 30}, headers=await app.as_("w1"))
    assert r.status_code == 422
    await flush(app.sessionmaker)
    assert await _count(app, wid) == 4


async def test_track_writes_off_keeps_the_live_position_only(clean_db: AsyncEngine, redis) -> None:
    """GRIDCMD_TRACK_WRITES=false (the benchmark's half without writes): reports still move the worker in Redis,
    nothing is buffered or written."""
    try:
        async with w.loop_app(clean_db, make_test_settings(track_writes=False)) as app:
            assert not tracks.BUFFER.enabled
            r = await app.client.post("/api/v1/workers/me/position", json={"lon": 120.052, "lat": 30.05},
                                      headers=await app.as_("w1"))
            assert r.status_code == 200 and r.json()["stored"] is True, r.text
            assert await redis.zscore(keys.SEEN, str(app.world.worker_id)) is not None
            assert len(tracks.BUFFER) == 0
            await flush(app.sessionmaker)
            await asyncio.sleep(1.2)  # a writer that ran anyway would have written by now
            assert await _count(app, app.world.worker_id) == 0
    finally:
        tracks.BUFFER.enabled = True  # as every process starts (the default setting)


async def test_replay_of_a_day(app) -> None:
    wid = app.world.worker_id
    t0 = datetime.combine(DAY, time(8, 0), TZ)
    pts = []
    for n in range(120):  # an hour at one report every 30 s walking east, a 20-minute break, 30 minutes more
        t = t0 + timedelta(seconds=30 * n + (1200 if n >= 80 else 0))
        pts.append((wid, t, 120.02 + 0.0002 * n, 30.05))
    async with app.sessionmaker() as s, s.begin():
        await tracks.write_rows(s, pts)
        await tracks.write_rows(s, [(wid, t0 - timedelta(days=1), 120.0, 30.0)])  # another day
        found = await w.incident(s, channel="patrol", created_at=t0 + timedelta(minutes=10),
                                 created_by=app.world.users["w1"])
    r = await app.client.get(f"/api/v1/workers/{wid}/track", params={"date": DAY.isoformat()},
                             headers=await app.as_("sup1"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["points"]) == 120 and body["points"][0][0] == t0.timestamp()
    geod = Geod(ellps="WGS84")
    want_m = sum(geod.inv(a[2], a[3], b[2], b[3])[2] for a, b in itertools.pairwise(pts)
                 if b[1] - a[1] <= timedelta(minutes=5))
    assert body["summary"]["duty_s"] == (119 - 1) * 30
    assert body["summary"]["distance_m"] == pytest.approx(want_m, rel=1e-3)
    assert [g["code"] for g in body["summary"]["grids"]] == ["D1S1C1G1"]
    assert [f["id"] for f in body["incidents_found"]] == [found.id]
    for params, user, status in (({"date": DAY.isoformat()}, "op2", 404), ({"date": "2026-13-01"}, "sup1", 422),
                                 ({}, "sup1", 422), ({"date": DAY.isoformat()}, "w1", 403)):
        r = await app.client.get(f"/api/v1/workers/{wid}/track", params=params, headers=await app.as_(user))
        assert r.status_code == status, (params, user, r.text)
    r = await app.client.get("/api/v1/workers/99999/track", params={"date": DAY.isoformat()},
                             headers=await app.as_("admin"))
    assert r.status_code == 404


async def test_partitions_made_ahead_and_purged(session: AsyncSession) -> None:
    # A day no other test writes (rows of a day already in the default partition keep it from getting its own);
    # the rows other tests committed are deleted here and come back with the rollback.
    await session.execute(text("DELETE FROM worker_positions"))
    # Day partitions other tests' scheduler passes made (today and the days ahead): gone too, until the rollback.
    await purge_tracks_before(session, cutoff=FAR - timedelta(days=1), tz="Asia/Shanghai")
    made = await ensure_partitions(session, start=FAR, days=3, tz="Asia/Shanghai")
    assert made == [partition_name(FAR + timedelta(days=n)) for n in range(3)]
    assert await ensure_partitions(session, start=FAR, days=3, tz="Asia/Shanghai") == []
    at = datetime.combine(FAR, time(9), TZ)
    await tracks.write_rows(session, [(1, at, 120.0, 30.0), (1, at - timedelta(days=30), 120.0, 30.0)])
    where = await session.execute(text("SELECT tableoid::regclass::text FROM worker_positions ORDER BY ts"))
    assert [r[0] for r in where] == ["worker_positions_default", partition_name(FAR)]
    gone = await purge_tracks_before(session, cutoff=FAR + timedelta(days=1), tz="Asia/Shanghai")
    assert gone == {"partitions_dropped": 1, "rows_deleted": 1}
    assert await session.scalar(text("SELECT count(*) FROM worker_positions")) == 0


def test_buffer_is_bounded_and_keeps_order() -> None:
    buf = tracks.TrackBuffer(max_rows=5)
    buf.add(1, [(120.0, 30.0, 1000.0 + n) for n in range(4)], now=2000.0)
    rows = buf.take()
    assert len(buf) == 0 and [r[1].timestamp() for r in rows] == [1000.0, 1001.0, 1002.0, 1003.0]
    buf.add(2, [(120.0, 30.0, None)], now=2000.0)
    buf.put_back(rows)  # a failed write: back in front, in order
    assert [r[1].timestamp() for r in buf.take()] == [1000.0, 1001.0, 1002.0, 1003.0, 2000.0]
    buf.add(3, [(120.0, 30.0, float(n)) for n in range(8)], now=2000.0)
    assert len(buf) == 5 and buf.dropped == 3


async def test_the_scheduler_makes_the_next_days_partitions(app, redis) -> None:
    import httpx

    from command.core.clock import utcnow
    from command.ops.jobs import tick

    settings = make_test_settings()
    async with httpx.AsyncClient() as http:
        await tick(settings, app.sessionmaker, redis, http, plan_patrol=True)
    today = utcnow().astimezone(ZoneInfo(settings.timezone)).date()
    async with app.sessionmaker() as s:
        names = {r[0] for r in await s.execute(text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'worker_positions'"))}
    # Today's may already have rows in the default partition (other tests): then it stays there, by design.
    assert {partition_name(today + timedelta(days=n)) for n in (1, 2)} <= names
