"""The Idempotency-Key dependency for action endpoints (command.request_keys does the work).

Put `dependencies=[IDEMPOTENT]` on a router (or route) of POST actions: with the header, the key is claimed in
the request's own transaction; a retry of an applied action is answered 200 {"replayed": true} with the
header `Idempotent-Replayed: true` (web.errors), and the action is not run again. Without the header nothing changes."""

from __future__ import annotations

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from command.request_keys import claim_key
from command.security import read_token
from web.deps import get_session, oauth2_scheme

HEADER = "Idempotency-Key"


async def idempotency_key(request: Request, token: str | None = Depends(oauth2_scheme),
                          session: AsyncSession = Depends(get_session)) -> None:
    key = request.headers.get(HEADER)
    if key is None or not token or request.method in ("GET", "HEAD", "OPTIONS"):
        return  # no token: the route's own auth dependency refuses the call
    scope = f"u{read_token(request.app.state.settings, token).user_id}"  # keys are per caller
    await claim_key(session, scope=scope, key=key, request=f"{request.method} {request.url.path}")


IDEMPOTENT = Depends(idempotency_key)

