"""Request dependencies: the settings, a session that owns the transaction, the caller, role checks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from command.errors import Forbidden, NotAuthenticated
from command.events import publish_quietly, take_pending
from command.security import Principal, read_token
from command.settings import Settings

# Every dependency here is `async def`: a plain `def` dependency runs in the thread pool, a thread hop
# on every request (measured by the benchmark at a third of the locate endpoint's profile).
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_redis(request: Request) -> Redis:
    return request.app.state.redis


async def _transaction(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.sessionmaker() as session:
        async with session.begin():
            yield session
        events = take_pending(session)  # committed: the block above raised otherwise
    settings: Settings = request.app.state.settings
    await publish_quietly(request.app.state.redis, events, maxlen=settings.event_stream_maxlen)


async def get_session(session: AsyncSession = Depends(_transaction, scope="function")) -> AsyncSession:
    """One transaction per request: committed when the handler returns, rolled back on any error, and the
    events it appended published to the live stream after the commit.

    Why scope="function": FastAPI runs a yield dependency's exit code after the response has been SENT unless
    the dependency is declared with scope="function" (fastapi/routing.py closes that exit stack before
    `await response(...)`). A 201 must never go out for something not yet committed, so the commit (and the
    publish) happens first. Going through this plain function means every `Depends(get_session)` gets that
    scope without having to say so. The session is closed once the handler returns: don't use it from a
    streaming response body or a background task."""
    return session


async def current_principal(
    request: Request, token: str | None = Depends(oauth2_scheme)
) -> Principal:
    if not token:
        raise NotAuthenticated("missing bearer token")
    return read_token(request.app.state.settings, token)


def require_roles(*roles: str) -> Callable[..., Principal]:
    """Dependency allowing only the given roles (admin is always allowed)."""

    async def check(principal: Principal = Depends(current_principal)) -> Principal:
        if principal.role != "admin" and principal.role not in roles:
            raise Forbidden(f"role {principal.role!r} may not do this")
        return principal

    return check
