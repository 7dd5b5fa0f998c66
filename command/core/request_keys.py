"""Idempotency-Key for actions (accept, decline, resolve, notes, sign for, send back…): the key is claimed in
the action's own transaction, before the action runs.

- first attempt: the key row is inserted; it commits with the action, or vanishes with it on any error;
- a retry after the first committed: the insert finds the row → `Replayed` (the action is not run again), if
  it is the same request (method, path and body); the same key with another request is a Conflict, never a
  replay that would silently drop the second body;
- two attempts at once: the second insert waits on the first's row lock, then sees it committed (replay) or
  rolled back (it runs the action itself). So an action with a key takes effect at most once."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from command.core.clock import utcnow
from command.core.errors import Conflict, InvalidInput
from command.core.models import RequestKey

KEY = re.compile(r"^[\x21-\x7e]{1,128}$")  # printable ASCII, no spaces (as for alert intake)
# How long a key is remembered (pruned hourly by command.ops.jobs): far longer than a phone stays offline.
KEEP = timedelta(days=7)


class Replayed(Exception):  # a signal, not a failure
    """The action of this key was already applied (at `first_at`)."""

    def __init__(self, key: str, first_at: datetime) -> None:
        super().__init__(f"already applied at {first_at.isoformat()}")
        self.key, self.first_at = key, first_at


async def claim_key(session: AsyncSession, *, scope: str, key: str, request: str,
                    body_sha256: str | None = None) -> None:
    """Claim `key` for `request` ("POST /path") with a body of that digest in the caller's transaction, or raise
    Replayed / Conflict."""
    if not KEY.match(key):
        raise InvalidInput("Idempotency-Key must be 1-128 printable ASCII characters",
                           details=[{"field": "Idempotency-Key"}])
    request = request[:300]
    inserted = await session.scalar(
        pg_insert(RequestKey).values(scope=scope, key=key, request=request, body_sha256=body_sha256,
                                     created_at=utcnow())
        .on_conflict_do_nothing().returning(RequestKey.key)
    )
    if inserted is not None:
        return
    first = await session.scalar(select(RequestKey).where(RequestKey.scope == scope, RequestKey.key == key))
    if first is None:  # deleted by a prune in between: let the client retry
        raise Conflict("this Idempotency-Key is being pruned; retry")
    if first.request != request:
        raise Conflict(f"this Idempotency-Key was already used for another request ({first.request})",
                       details={"field": "Idempotency-Key"})
    if first.body_sha256 is not None and body_sha256 is not None and first.body_sha256 != body_sha256:
        raise Conflict("this Idempotency-Key was already used for this request with another body; "
                       "a new action needs a new key", details={"field": "Idempotency-Key"})
    raise Replayed(key, first.created_at)


async def prune_keys(session: AsyncSession, *, older_than: timedelta) -> int:
    """Forget keys older than `older_than` (a phone retries for hours at most, not for days)."""
    result = await session.execute(delete(RequestKey).where(RequestKey.created_at < utcnow() - older_than))
    # A DELETE's result is a CursorResult (rowcount); Session.execute is typed as plain Result.
    return cast(CursorResult[Any], result).rowcount or 0
