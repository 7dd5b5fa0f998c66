"""A 201 implies committed: web.deps.get_session commits (and publishes) before the first byte of the response.

The check runs at the very moment the app sends `http.response.start`: from another connection, is the row
already visible, and is its event already in the stream? A control route that uses a plain yield dependency
(FastAPI's default "request" scope) shows the check would catch the wrong order."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Depends
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from command.core.errors import InvalidInput
from command.core.events import Actor, append_event
from command.realtime import stream
from dispatch import keys
from web.app import create_app
from web.deps import SessionDep, _transaction

router = APIRouter(prefix="/test-only")


@router.post("/events", status_code=201)
async def add_event(session: SessionDep) -> dict:
    event = await append_event(session, kind="test.created", actor=Actor.system("test"))
    return {"id": event.id}


@router.post("/events-then-fail", status_code=201)
async def add_event_then_fail(session: SessionDep) -> dict:
    await append_event(session, kind="test.failed", actor=Actor.system("test"))
    raise InvalidInput("refused after the write")


@router.post("/events-request-scope", status_code=201)
async def add_event_request_scope(session: Annotated[AsyncSession, Depends(_transaction)]) -> dict:
    event = await append_event(session, kind="test.late", actor=Actor.system("test"))
    return {"id": event.id}


class Observer:
    """ASGI wrapper: when the response starts, record what another connection sees."""

    def __init__(self, app: ASGIApp, engine: AsyncEngine, redis: Redis) -> None:
        self.app, self.engine, self.redis = app, engine, redis
        self.seen: list[tuple[int, int, int]] = []  # (status, committed events, stream entries)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def watching_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                async with self.engine.connect() as conn:
                    rows = (await conn.execute(text("SELECT count(*) FROM events"))).scalar_one()
                entries = await self.redis.xlen(keys.STREAM)
                self.seen.append((message["status"], rows, entries))
            await send(message)

        await self.app(scope, receive, watching_send)


@pytest.fixture
async def observed(clean_db: AsyncEngine, settings, redis: Redis) -> AsyncIterator[tuple[httpx.AsyncClient, Observer]]:
    app = create_app(settings)
    app.include_router(router)
    observer = Observer(app, clean_db, redis)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=observer)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client, observer


async def test_201_is_sent_only_after_the_commit_and_the_publish(observed) -> None:
    client, observer = observed
    r = await client.post("/test-only/events")
    assert r.status_code == 201
    assert observer.seen == [(201, 1, 2)]  # the row is committed; the stream holds the epoch entry and the event


async def test_an_error_after_the_write_commits_and_publishes_nothing(observed, redis: Redis) -> None:
    client, observer = observed
    r = await client.post("/test-only/events-then-fail")
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_input"
    assert observer.seen == [(422, 0, 0)]
    assert await redis.xlen(keys.STREAM) == 0


async def test_control_a_request_scoped_dependency_commits_too_late(observed) -> None:
    """Why get_session needs scope="function": with the default scope the 201 leaves before the commit."""
    client, observer = observed
    r = await client.post("/test-only/events-request-scope")
    assert r.status_code == 201
    assert observer.seen == [(201, 0, 0)]


async def test_redis_down_at_publish_still_answers_201_and_the_relay_publishes_later(observed, redis: Redis,
                                                                                     settings) -> None:
    client, observer = observed
    app = client._transport.app.app  # type: ignore[attr-defined]  (Observer → the FastAPI app)
    good = app.state.redis
    app.state.redis = Redis.from_url("redis://127.0.0.1:1/0", decode_responses=True)  # nothing listens there
    try:
        r = await client.post("/test-only/events")
    finally:
        await app.state.redis.aclose()
        app.state.redis = good
    assert r.status_code == 201 and observer.seen == [(201, 1, 0)]  # committed; the publish failed quietly
    from command.realtime.relay import relay_pass

    result = await relay_pass(app.state.sessionmaker, redis, settings)
    assert result.published == 1
    assert [stream.decode(i, f).pg_id for i, f in await redis.xrange(keys.STREAM)][1:] == [r.json()["id"]]
