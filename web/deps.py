"""Request dependencies: the settings, a session that owns the transaction, the caller, role checks.

Routes take them as Annotated types (`session: SessionDep`, `principal: Operator`), so a parameter says what it is
and the dependency is written once, here. web.openapi_errors reads the functions behind them (the statuses each may
answer), whatever alias a route uses."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from command.admin.account_admin import take_changed
from command.core.errors import Forbidden, NotAuthenticated
from command.core.events import take_pending
from command.core.replica import ReadReplica
from command.core.security import Principal, TokenClaims, verify_token
from command.core.settings import Settings
from command.realtime.publish import publish_quietly
from web.read_your_writes import wrote_recently

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
        accounts_changed = take_changed(session)
    settings: Settings = request.app.state.settings
    await publish_quietly(request.app.state.redis, events, maxlen=settings.event_stream_maxlen)
    if accounts_changed:  # before the response: this process refuses the old tokens from now on, the others at once
        await request.app.state.account_watch.changed(accounts_changed)


async def get_session(session: Annotated[AsyncSession, Depends(_transaction, scope="function")]) -> AsyncSession:
    """One transaction per request: committed when the handler returns, rolled back on any error, and the
    events it appended published to the live stream after the commit.

    Why scope="function": FastAPI runs a yield dependency's exit code after the response has been SENT unless
    the dependency is declared with scope="function" (fastapi/routing.py closes that exit stack before
    `await response(...)`). A 201 must never go out for something not yet committed, so the commit (and the
    publish) happens first. Going through this plain function means every `SessionDep` gets that
    scope without having to say so. The session is closed once the handler returns: don't use it from a
    streaming response body or a background task."""
    return session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


async def _read_transaction(request: Request) -> AsyncIterator[AsyncSession]:
    replica: ReadReplica | None = getattr(request.app.state, "read_replica", None)
    held = replica is None or wrote_recently(request)  # this browser's own recent write: the primary has it
    session = None if held else await replica.session()  # None: not now, the primary reads
    if session is None:
        session = request.app.state.read_sessionmaker()  # read-only as on the replica: a write fails everywhere
    async with session:  # closing ends the transaction; a read appends no events, so nothing is published
        yield session


async def get_read_session(
    session: Annotated[AsyncSession, Depends(_read_transaction, scope="function")],
) -> AsyncSession:
    """A session for pages that only read and need not see this caller's write of a moment ago: on the read
    replica (DATABASE_READ_URL) while it answers within the lag bound (command.core.replica), else on the primary.
    Nothing is committed: a route that writes takes SessionDep. On the replica every transaction is read-only,
    and the replica refuses writes anyway. Closed once the handler returns (scope="function", as get_session)."""
    return session


ReadSessionDep = Annotated[AsyncSession, Depends(get_read_session)]
# The same read session, kept open until the response has been SENT (a yield dependency's default scope): for a
# streaming response whose body reads from the database as it goes (the ledger export).
StreamingReadSessionDep = Annotated[AsyncSession, Depends(_read_transaction)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
RedisDep = Annotated[Redis, Depends(get_redis)]


async def current_claims(
    request: Request, token: Annotated[str | None, Depends(oauth2_scheme)], session: SessionDep
) -> TokenClaims:
    """The caller's verified token, held against the account as it is now (command.admin.accounts): a disabled,
    deleted, changed or logged-out account's token is 401 here, whatever its signature and expiry say. The
    account's state is read in the request's own transaction when this process has no fresh copy (a second
    pooled connection per request could starve the pool under load)."""
    if not token:
        raise NotAuthenticated("missing bearer token")
    claims = verify_token(request.app.state.settings, token)
    await request.app.state.accounts.check(session, claims)
    return claims


Claims = Annotated[TokenClaims, Depends(current_claims)]


async def current_principal(claims: Claims) -> Principal:
    return claims.principal


CurrentUser = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: str) -> Callable[..., Principal]:
    """Dependency allowing only the given roles (admin is always allowed); routes use the aliases below."""

    async def check(principal: CurrentUser) -> Principal:
        if principal.role != "admin" and principal.role not in roles:
            raise Forbidden(f"role {principal.role!r} may not do this")
        return principal

    return check


# The caller, held to roles (admin always passes): one alias per set of roles a route admits.
Admin = Annotated[Principal, Depends(require_roles())]
Supervisor = Annotated[Principal, Depends(require_roles("supervisor"))]
Operator = Annotated[Principal, Depends(require_roles("operator", "supervisor"))]
Liaison = Annotated[Principal, Depends(require_roles("liaison", "supervisor"))]
LiaisonOnly = Annotated[Principal, Depends(require_roles("liaison"))]
Worker = Annotated[Principal, Depends(require_roles("worker"))]
Assignee = Annotated[Principal, Depends(require_roles("worker", "liaison"))]
OperatorOrLiaison = Annotated[Principal, Depends(require_roles("operator", "supervisor", "liaison"))]
OperatorOrWorker = Annotated[Principal, Depends(require_roles("operator", "supervisor", "worker"))]
