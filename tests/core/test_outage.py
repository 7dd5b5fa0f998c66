"""Which failures mean "PostgreSQL or Redis unavailable" (503, one log line), and a process whose Redis is down:
it starts, stores alerts, answers the endpoints that need Redis with 503 and says so on /readyz."""

from __future__ import annotations

import logging

import asyncpg
import httpx
import pytest
import redis.exceptions as redis_errors
from sqlalchemy import exc as sa_errors

from command.core import outage
from command.core.outage import OutageLog, unavailable
from tests.dispatch_world import alert, build_world
from tests.environment import make_test_settings
from tests.procs import free_port
from web.app import create_app


@pytest.mark.parametrize(("exc", "expected"), [
    (ConnectionRefusedError(111, "Connection refused"), "postgres"),  # a connect, refused
    (TimeoutError(), "postgres"),  # no answer within the connect or command timeout
    (asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
     "postgres"),
    (asyncpg.exceptions.InterfaceError("connection is closed"), "postgres"),
    (asyncpg.exceptions._base.InternalClientError("cannot switch to state 15; another operation (2) is in progress"),
     "postgres"),  # seen when PostgreSQL came back under load: the connection is dropped, the request retried
    (asyncpg.exceptions.CannotConnectNowError("the database system is starting up"), "postgres"),
    (asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command"), "postgres"),
    (asyncpg.exceptions.QueryCanceledError("canceling statement due to statement timeout"), "postgres"),
    (asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients already"), "postgres"),
    (sa_errors.TimeoutError("QueuePool limit reached"), "postgres"),
    (sa_errors.OperationalError("SELECT 1", {}, Exception("server closed the connection")), "postgres"),
    (redis_errors.ConnectionError("Error 111 connecting"), "redis"),
    (redis_errors.TimeoutError("Timeout reading from socket"), "redis"),
    (redis_errors.BusyLoadingError("Redis is loading the dataset in memory"), "redis"),
    # Not outages: a bug or bad data stays a 500 with its traceback.
    (asyncpg.exceptions.UniqueViolationError("duplicate key value"), None),
    (sa_errors.IntegrityError("INSERT", {}, Exception("duplicate key")), None),
    (redis_errors.ResponseError("WRONGTYPE"), None),
    (ValueError("bug"), None),
    (PermissionError(13, "Permission denied"), None),  # a file, not a dependency
    (OSError(28, "No space left on device"), None),
    (OSError(101, "Network is unreachable"), "postgres"),
])
def test_what_counts_as_unavailable(exc: BaseException, expected: str | None) -> None:
    assert unavailable(exc) == expected


def test_the_cause_counts_too() -> None:
    try:
        try:
            raise asyncpg.exceptions.ConnectionDoesNotExistError("gone")
        except asyncpg.PostgresError as cause:
            raise RuntimeError("while committing") from cause
    except RuntimeError as exc:
        assert unavailable(exc) == "postgres"


def test_an_outage_is_one_line_then_a_count(caplog: pytest.LogCaptureFixture) -> None:
    log = OutageLog(logging.getLogger("test.outage"), every_s=3600)
    with caplog.at_level(logging.WARNING, logger="test.outage"):
        for _ in range(100):
            assert log.note(ConnectionRefusedError(111, "refused"), where="POST /api/v1/alerts")
        assert not log.note(ValueError("bug"), where="x")  # not an outage: the caller logs it its own way
        log.recovered(outage.POSTGRES)
        log.recovered(outage.POSTGRES)  # nothing to say twice
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2, lines
    assert lines[0].startswith("postgres unavailable (POST /api/v1/alerts): ConnectionRefusedError")
    assert lines[1].startswith("postgres available again")
    log.every_s = 0  # a long outage: a reminder with the count every every_s
    with caplog.at_level(logging.WARNING, logger="test.outage"):
        caplog.clear()
        log.note(TimeoutError(), where="a")
        log.note(TimeoutError(), where="b")
    assert [r.getMessage()[:33] for r in caplog.records] == ["postgres unavailable (a): Timeout",
                                                             "postgres still unavailable after "]


async def test_readiness_reports_both_dependencies(clean_db, redis) -> None:
    app = create_app(make_test_settings(dispatch_background=False))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            ready = await client.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body["ok"] is True and body["postgres"]["ok"] is True and body["redis"]["ok"] is True
    assert set(body["postgres"]) == {"ok", "ms"}


async def test_a_process_whose_redis_is_down(clean_db, redis, caplog: pytest.LogCaptureFixture) -> None:
    settings = make_test_settings(dispatch_background=False)
    world = await build_world(clean_db, redis, settings)
    down = make_test_settings(dispatch_background=False, redis_url=f"redis://127.0.0.1:{free_port()}/0",
                              redis_timeout_s=0.5, readiness_timeout_s=1.0)
    app = create_app(down)
    with caplog.at_level(logging.WARNING):
        async with app.router.lifespan_context(app):  # starts: hub, relay, dispatch duties wait for Redis
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                ready = await client.get("/readyz")
                health = await client.get("/healthz")
                stored = await client.post("/api/v1/alerts", json=alert(), headers=world.op.headers)
                position = await client.post("/api/v1/workers/me/position", json={"lon": 118.7, "lat": 32.0},
                                             headers=world.near.headers)
    assert ready.status_code == 503 and ready.headers["Retry-After"] == "1"
    assert ready.json()["postgres"]["ok"] is True and ready.json()["redis"]["ok"] is False
    assert health.status_code == 200
    # Stored and acknowledged; dispatch waits for Redis (the sweeper dispatches it when Redis is back).
    assert stored.status_code == 201 and stored.json()["status"] == "located", stored.text
    assert position.status_code == 503 and position.headers["Retry-After"] == "1"
    assert position.json()["error"]["code"] == "unavailable"
    assert not [r for r in caplog.records if r.exc_info]  # no traceback anywhere, only outage lines
