"""Request dependencies: the settings, a session that owns the transaction, the caller, role checks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from command.errors import Forbidden, NotAuthenticated
from command.security import Principal, read_token
from command.settings import Settings

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_redis(request: Request) -> Redis:
    return request.app.state.redis


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request: committed when the handler returns, rolled back on any error."""
    async with request.app.state.sessionmaker() as session, session.begin():
        yield session


def current_principal(
    request: Request, token: str | None = Depends(oauth2_scheme)
) -> Principal:
    if not token:
        raise NotAuthenticated("missing bearer token")
    return read_token(request.app.state.settings, token)


def require_roles(*roles: str) -> Callable[..., Principal]:
    """Dependency allowing only the given roles (admin is always allowed)."""

    def check(principal: Principal = Depends(current_principal)) -> Principal:
        if principal.role != "admin" and principal.role not in roles:
            raise Forbidden(f"role {principal.role!r} may not do this")
        return principal

    return check
