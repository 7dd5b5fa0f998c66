"""/api/v1/auth: log in (OAuth2 password form → bearer token), renew, log out, who am I (docs/security.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from command.admin.account_admin import revoke_session
from command.admin.login import log_in
from command.core.errors import NotAuthenticated
from command.core.security import TokenClaims, mint
from web.deps import Claims, CurrentUser, RedisDep, SessionDep, SettingsDep
from web.errors import error_response
from web.openapi_errors import errors
from web.ratelimit import client_address

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])

class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: int
    role: str
    username: str
    region_code: str | None
    department_code: str | None
    worker_id: int | None


def _token_out(token: str, claims: TokenClaims) -> TokenOut:
    p = claims.principal
    return TokenOut(access_token=token, expires_at=int(claims.expires_at), role=p.role, username=p.username,
                    region_code=p.region_code, department_code=p.department_code, worker_id=p.worker_id)


@router.post("/token", response_model=TokenOut, responses=errors(401, 429, 503))
async def token(request: Request, session: SessionDep, redis: RedisDep, settings: SettingsDep,
                form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Response | TokenOut:
    outcome = await log_in(session, redis, settings=settings, username=form.username, password=form.password,
                           address=client_address(request))
    if outcome.refusal is not None:
        return error_response(outcome.refusal)  # returned, not raised: the audit row commits with the answer
    assert outcome.principal is not None
    return _token_out(*mint(settings, outcome.principal))


@router.post("/renew", response_model=TokenOut, responses=errors(401))
async def renew(claims: Claims, settings: SettingsDep) -> TokenOut:
    """A fresh token of the same session (same account, scope and session id; logout still ends both), valid
    for token_ttl_s more but never past session_max_s after the password login."""
    fresh, fresh_claims = mint(settings, claims.principal, session_id=claims.session_id, auth_time=claims.auth_time)
    session_end = int(claims.auth_time + settings.session_max_s)
    if fresh_claims.expires_at <= claims.expires_at and fresh_claims.expires_at >= session_end:
        # Nothing to gain: saying so stops a client that would otherwise renew again and again until expiry.
        raise NotAuthenticated("the session reached its longest life (session_max_s): log in again")
    return _token_out(fresh, fresh_claims)


@router.post("/logout", status_code=204, responses=errors(401))
async def logout(claims: Claims, session: SessionDep,
                 settings: SettingsDep) -> Response:
    """End this token's session: it and every renewal of it are refused from now on, on HTTP and sockets, in
    every process (other sessions of the account go on; an admin ends them all)."""
    await revoke_session(session, claims=claims, settings=settings)
    return Response(status_code=204)


@router.get("/me", responses=errors(401))
async def me(principal: CurrentUser) -> dict:
    return {
        "user_id": principal.user_id,
        "username": principal.username,
        "role": principal.role,
        "region_code": principal.region_code,
        "department_code": principal.department_code,
        "worker_id": principal.worker_id,
    }
