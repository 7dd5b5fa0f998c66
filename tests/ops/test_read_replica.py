"""A streaming replica serves the read pages (docs/replica.md): statistics answer from it, except to a browser that
has just written (it reads its write on the primary); over the lag bound, or
with the replica stopped or frozen, they answer from the primary (200 within a bound, the dead replica not retried
on every request); replay resumed, reads return to it; writes through the app never reach it.

The replica is a real one of the suite's primary (tests/pg_cluster.py OwnReplica: scripts/pg-replica.sh,
pg_basebackup -R), started once for the module after the test database is migrated and seeded."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
import pytest
from redis import Redis as SyncRedis
from sqlalchemy import text

from command.core.db import make_engine, make_sessionmaker
from command.core.replica import ReadReplica
from command.core.settings import Settings
from command.ops.migrate import upgrade
from tests.dispatch_fixtures import Who, add_user, at, seed_world
from tests.environment import make_test_settings
from tests.pg_cluster import OwnPostgres, OwnReplica
from web.app import create_app
from web.deps import ReadSessionDep

MAX_LAG_S = 2.0
CHECK_S = 0.2
TIMEOUT_S = 0.5
BACKOFF_S = 2.0
# A read page answers within this while the replica is stopped or frozen (one connect timeout at most, plus the
# page's own work on a loaded 2-core machine).
FALLBACK_BOUND_S = TIMEOUT_S + 1.0
# Reads reach the replica within this of an app's start (a check that timed out on a loaded machine costs a
# back-off; a failure names the last verdict).
SETTLE_S = BACKOFF_S + 3.0
LAST_VERDICT: list[str] = []  # the replica's last verdict a read saw (for a failure's message)


@pytest.fixture(scope="module")
def primary() -> Iterator[tuple[OwnPostgres, Settings]]:
    """A primary of the test's own (a small cluster: its base backup takes seconds, the shared one's a minute)."""
    with OwnPostgres() as pg:
        pg.create_database("gridcmd")
        settings = make_test_settings(database_url=pg.url("gridcmd"))
        upgrade(settings)
        # The suite's Redis db may hold an earlier module's live state (workers this database does not have).
        SyncRedis.from_url(settings.redis_url).flushdb()
        yield pg, settings


@pytest.fixture(scope="module")
async def operator(primary: tuple[OwnPostgres, Settings]) -> Who:
    engine = make_engine(primary[1])
    try:
        async with make_sessionmaker(engine)() as s, s.begin():
            await seed_world(s)
            return await add_user(s, primary[1], username="reader", role="operator")
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def replica(primary: tuple[OwnPostgres, Settings], operator: Who) -> Iterator[OwnReplica]:
    """Started after the seed: the base backup holds the database as the tests find it."""
    pg = OwnReplica(primary_port=primary[0].port)
    try:
        pg.start()
        yield pg
    finally:
        pg.close()


@pytest.fixture
def replica_settings(primary: tuple[OwnPostgres, Settings], replica: OwnReplica) -> Settings:
    return primary[1].model_copy(update={
        "database_read_url": replica.url("gridcmd"),
        "read_replica_max_lag_s": MAX_LAG_S, "read_replica_check_s": CHECK_S,
        "read_replica_connect_timeout_s": TIMEOUT_S, "read_replica_backoff_s": BACKOFF_S})


@asynccontextmanager
async def served(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app, with one more read route that says which server its session is on."""
    app = create_app(settings)

    @app.get("/_where")
    async def where(session: ReadSessionDep) -> dict[str, Any]:
        return {"replica": await session.scalar(text("SELECT pg_is_in_recovery()")),
                "verdict": app.state.read_replica and app.state.read_replica.verdict.reason}

    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


async def on_replica(client: httpx.AsyncClient) -> bool:
    r = await client.get("/_where")
    assert r.status_code == 200, r.text
    LAST_VERDICT[:] = [r.json()["verdict"]]
    return bool(r.json()["replica"])


async def received(client: httpx.AsyncClient, who: Who) -> int:
    now = datetime.now(UTC)
    span = {"from": (now - timedelta(days=1)).isoformat(), "to": (now + timedelta(hours=1)).isoformat()}
    r = await client.get("/api/v1/stats", headers=who.headers, params=span)
    assert r.status_code == 200, r.text
    return int(r.json()["total"]["received"])


async def post_alert(client: httpx.AsyncClient, who: Who, n: int) -> None:
    lon, lat = at(1 + n % 5 * 0.3, 1.5)
    r = await client.post("/api/v1/alerts", headers=who.headers, json={
        "category": "noise", "description": f"副本测试{n}", "lon": lon, "lat": lat, "channel": "sensor"})
    assert r.status_code == 201, r.text


async def wait_for(check: Callable[[], Awaitable[bool]], within_s: float, what: str) -> float:
    start = time.monotonic()
    while not await check():
        assert time.monotonic() - start < within_s, f"not within {within_s} s: {what} (verdict: {LAST_VERDICT})"
        await asyncio.sleep(0.05)
    return time.monotonic() - start


def primary_count(settings: Settings, description: str) -> int:
    with psycopg.connect(settings.sync_database_url.replace("+psycopg", "")) as conn:
        row = conn.execute("SELECT count(*) FROM incidents WHERE description = %s", (description,)).fetchone()
        return int(row[0]) if row else 0


async def test_reads_answer_from_the_replica_and_writes_go_to_the_primary(
        replica_settings: Settings, replica: OwnReplica, operator: Who) -> None:
    async with served(replica_settings) as client:
        await wait_for(lambda: on_replica(client), SETTLE_S, "reads on the replica")
        before = await received(client, operator)
        await post_alert(client, operator, 1)  # a write through the app: the primary (the replica would refuse it)
        assert primary_count(replica_settings, "副本测试1") == 1
        assert not await on_replica(client)  # this browser just wrote: its reads stay on the primary a while
        assert await received(client, operator) == before + 1
        client.cookies.clear()  # another browser, or this one later
        waited = await wait_for(lambda: _replica_has(client, operator, before + 1), 5.0, "the write replayed")
        print(f"\nwrite visible on the replica after {waited * 1000:.0f} ms")
        # The read session is read-only on either server.
        rr: ReadReplica = client.app.state.read_replica  # type: ignore[attr-defined]
        await wait_for(lambda: on_replica(client), SETTLE_S, "reads on the replica")
        session = await rr.session()
        assert session is not None, rr.verdict
        async with session:
            with pytest.raises(Exception, match="read-only transaction"):
                await session.execute(text("UPDATE users SET display_name = display_name WHERE false"))
    async with served(replica_settings.model_copy(update={"database_read_url": ""})) as plain:
        assert not await on_replica(plain)  # no replica configured: the primary, read-only too
        assert await received(plain, operator) == before + 1
        async with plain.app.state.read_sessionmaker() as session:  # type: ignore[attr-defined]
            with pytest.raises(Exception, match="read-only transaction"):
                await session.execute(text("UPDATE users SET display_name = display_name WHERE false"))


async def _replica_has(client: httpx.AsyncClient, who: Who, n: int) -> bool:
    return await on_replica(client) and await received(client, who) == n


async def test_lag_over_the_bound_reads_the_primary_and_resumed_replay_returns(
        replica_settings: Settings, replica: OwnReplica, operator: Who) -> None:
    async with served(replica_settings) as client:
        await wait_for(lambda: on_replica(client), SETTLE_S, "reads on the replica")
        await post_alert(client, operator, 2)  # a fresh commit replayed just before the pause: the lag starts at 0
        client.cookies.clear()
        await wait_for(lambda: _replayed(replica, replica_settings, "副本测试2"), 5.0, "the alert replayed")
        now = await received(client, operator)
        replica.sql("SELECT pg_wal_replay_pause()")
        try:
            await post_alert(client, operator, 3)
            written = time.monotonic()
            assert primary_count(replica_settings, "副本测试3") == 1
            assert await received(client, operator) == now + 1  # the writer reads its write (the primary)
            client.cookies.clear()
            # Within the bound the replica still answers others, without the new row: the page is on the replica.
            assert await on_replica(client)
            assert await received(client, operator) == now
            assert time.monotonic() - written < MAX_LAG_S  # (else the two answers above prove nothing)
            waited = await wait_for(lambda: _not(on_replica(client)), MAX_LAG_S + 3.0, "reads on the primary")
            print(f"\nreads on the primary {time.monotonic() - written:.2f} s after the write (bound {MAX_LAG_S} s)")
            assert waited > 0
            assert await received(client, operator) >= now + 1  # the primary has it
        finally:
            replica.sql("SELECT pg_wal_replay_resume()")
        back = await wait_for(lambda: on_replica(client), 3.0, "back on the replica")
        print(f"back on the replica {back:.2f} s after replay resumed")
        assert await received(client, operator) >= now + 1


async def _not(check: Awaitable[bool]) -> bool:
    return not await check


async def _replayed(replica: OwnReplica, settings: Settings, description: str) -> bool:
    with psycopg.connect(replica.url("gridcmd"), connect_timeout=2) as conn:
        row = conn.execute("SELECT count(*) FROM incidents WHERE description = %s", (description,)).fetchone()
        return bool(row and row[0])


async def _timed_reads(client: httpx.AsyncClient, who: Who, n: int) -> list[float]:
    took = []
    for _ in range(n):
        t = time.monotonic()
        await received(client, who)
        assert not await on_replica(client)
        took.append(time.monotonic() - t)
    return took


async def test_replica_stopped_reads_answer_from_the_primary(
        replica_settings: Settings, replica: OwnReplica, operator: Who) -> None:
    async with served(replica_settings) as client:
        await wait_for(lambda: on_replica(client), SETTLE_S, "reads on the replica")
        expected = await received(client, operator)
        replica.stop()
        try:
            took = await _timed_reads(client, operator, 20)
            print(f"\nreplica stopped: 20 reads, slowest {max(took) * 1000:.0f} ms, total {sum(took):.2f} s")
            assert max(took) < FALLBACK_BOUND_S
            assert await received(client, operator) == expected
            rr: ReadReplica = client.app.state.read_replica  # type: ignore[attr-defined]
            assert not rr.verdict.usable and "unreachable" in rr.verdict.reason
        finally:
            replica.start()
        back = await wait_for(lambda: on_replica(client), BACKOFF_S + 5.0, "back on the replica")
        print(f"back on the replica {back:.2f} s after it restarted (back-off {BACKOFF_S} s)")


async def test_replica_frozen_reads_answer_from_the_primary_within_the_connect_timeout(
        replica_settings: Settings, replica: OwnReplica, operator: Who) -> None:
    async with served(replica_settings) as client:
        await wait_for(lambda: on_replica(client), SETTLE_S, "reads on the replica")
        replica.freeze()  # connections accepted, nothing answers: the pooled ones hang too
        try:
            took = await _timed_reads(client, operator, 20)
            print(f"\nreplica frozen: 20 reads, slowest {max(took) * 1000:.0f} ms, total {sum(took):.2f} s")
            assert max(took) < FALLBACK_BOUND_S
            # Backed off: not every read waited for the dead replica (one connect timeout, not twenty).
            assert sum(took) < TIMEOUT_S * 3 + 20 * 0.2
        finally:
            replica.thaw()
        back = await wait_for(lambda: on_replica(client), BACKOFF_S + 5.0, "back on the replica")
        print(f"back on the replica {back:.2f} s after it was thawed")


async def test_a_read_url_that_is_not_a_replica_is_not_read_from(
        primary: tuple[OwnPostgres, Settings], operator: Who) -> None:
    """A primary named as the replica (a mistake, or a promoted replica): not in recovery, so never used."""
    settings = primary[1].model_copy(update={"database_read_url": primary[1].database_url})
    async with served(settings) as client:
        assert not await on_replica(client)
        rr: ReadReplica = client.app.state.read_replica  # type: ignore[attr-defined]
        assert rr.verdict.reason == "not in recovery (not a replica)"
        assert await received(client, operator) >= 0
