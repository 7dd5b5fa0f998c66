"""/api/v1/admin/users/{id}: an administrator disables or enables an account, changes its role and scope, or ends
all its sessions. Each takes effect on the account's tokens at once, on HTTP and open sockets, in every process
(command.admin.account_admin, docs/security.md). Admins only."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from command.admin import account_admin, admin_scope, audit
from command.core.errors import NotFound
from command.core.models import ROLES, User
from command.core.security import Principal
from web.deps import Admin, SessionDep
from web.openapi_errors import errors
from web.request_models import Body

router = APIRouter(prefix="/api/v1/admin/users", tags=["admin"])
UserId = Annotated[int, Path(ge=1, le=2**31 - 1, description="the user's id")]


def _error(status: int, description: str | None = None) -> dict:
    """The one error body (web.openapi_errors), with this router's description of when it happens."""
    response = errors(status)[status]
    return {**response, "description": description} if description else response


RESPONSES: dict[int | str, dict] = {401: _error(401), 403: _error(403, "not an admin"),
                                    404: _error(404, "no such user"), 422: _error(422, "a malformed id or body")}


class AccountOut(BaseModel):
    id: int
    username: str
    role: str
    region_code: str | None
    department_code: str | None
    active: bool
    token_version: int


class RoleIn(Body):
    role: str = Field(description=f"one of {', '.join(ROLES)}", max_length=16)
    region_code: str | None = Field(None, min_length=1, max_length=64)
    department_code: str | None = Field(None, min_length=1, max_length=64)


AUDITED = ("username", "display_name", "phone", "role", "region_code", "department_code", "active")


async def _audited(session: SessionDep, principal: Principal, user_id: int, action: str,
                   change: Callable[[], Awaitable[User]]) -> User:
    """Run one account change and write its audit entry (before/after), in the request's transaction."""
    before_user = await session.get(User, user_id)
    if before_user is None:
        raise NotFound(f"no user {user_id}")
    await admin_scope.ensure_region(session, principal, before_user.region_code)
    before = audit.snapshot(before_user, AUDITED)
    user = await change()
    await audit.record(session, principal=principal, action=action, entity="user", entity_id=user.id,
                       before=before, after=audit.snapshot(user, AUDITED), region_code=user.region_code)
    return user


def _out(user: User) -> AccountOut:
    return AccountOut(id=user.id, username=user.username, role=user.role, region_code=user.region_code,
                      department_code=user.department_code, active=user.active, token_version=user.token_version)


@router.post("/{user_id}/disable", responses=RESPONSES)
async def disable(user_id: UserId, principal: Admin, session: SessionDep) -> AccountOut:
    """The account can no longer log in, and every token of it is refused at once."""
    return _out(await _audited(session, principal, user_id, "disable",
                               lambda: account_admin.set_active(session, user_id=user_id, active=False)))


@router.post("/{user_id}/enable", responses=RESPONSES)
async def enable(user_id: UserId, principal: Admin, session: SessionDep) -> AccountOut:
    """The account may log in again (tokens from before it was disabled stay refused)."""
    return _out(await _audited(session, principal, user_id, "enable",
                               lambda: account_admin.set_active(session, user_id=user_id, active=True)))


@router.put("/{user_id}/role", responses={**RESPONSES, 422: _error(422, "a malformed id or body, or an unknown role, "
                                                                                     "region or department")})
async def set_role(user_id: UserId, body: RoleIn, principal: Admin, session: SessionDep) -> AccountOut:
    """Another role and scope; the account's tokens stop at once (it logs in again to get the new ones)."""
    await admin_scope.ensure_region(session, principal, body.region_code)
    return _out(await _audited(session, principal, user_id, "set_role", lambda: account_admin.set_role(
        session, user_id=user_id, role=body.role, region_code=body.region_code,
        department_code=body.department_code)))


@router.post("/{user_id}/sessions/end", responses=RESPONSES)
async def end_sessions(user_id: UserId, principal: Admin, session: SessionDep) -> AccountOut:
    """Every session of the account ends (all its tokens, on every device); it may log in again."""
    return _out(await _audited(session, principal, user_id, "end_sessions",
                               lambda: account_admin.end_sessions(session, user_id=user_id)))
