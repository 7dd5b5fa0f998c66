"""The Idempotency-Key dependency for action endpoints (command.core.request_keys does the work).

Put `dependencies=[IDEMPOTENT]` on a router (or route) of POST actions: with the header, the key is claimed in
the request's own transaction, per caller, with the request's method, path and body; a retry of an applied action
is answered 200 {"replayed": true} with the header `Idempotent-Replayed: true` (web.errors), and the action is not
run again; the same key with another path or body is a 409. Without the header nothing changes."""

from __future__ import annotations

import hashlib
from typing import Annotated

import orjson
from fastapi import Depends, Header, Request

from command.core.request_keys import claim_key
from web.deps import CurrentUser, SessionDep
from web.openapi_errors import declare
from web.request_types import IdempotencyKey

HEADER = "Idempotency-Key"


def body_fingerprint(body: bytes) -> str:
    """SHA-256 of the body, JSON taken canonically (a client re-serialising its retry in another key order or
    spacing sends the same action)."""
    try:
        body = orjson.dumps(orjson.loads(body), option=orjson.OPT_SORT_KEYS) if body else body
    except orjson.JSONDecodeError:
        pass  # not JSON: its bytes
    return hashlib.sha256(body).hexdigest()


@declare(200, 409, acting_only=True)
async def idempotency_key(request: Request, principal: CurrentUser, session: SessionDep,
                          key: Annotated[IdempotencyKey | None, Header(alias=HEADER)] = None) -> None:
    if key is None or request.method in ("GET", "HEAD", "OPTIONS"):
        return
    await claim_key(session, scope=f"u{principal.user_id}", key=key, request=f"{request.method} {request.url.path}",
                    body_sha256=body_fingerprint(await request.body()))  # the body FastAPI read already


IDEMPOTENT = Depends(idempotency_key)
