"""Delivers the 12345 status reports of `hotline_outbox` to the platform: in order per work order,
with exponential backoff, never lost across restarts (the rows are PostgreSQL's, written with the
change itself by a trigger — see migration 0002).

Safe with several processes: a worker claims only the oldest undelivered report of a work order
(`FOR UPDATE SKIP LOCKED`), so a later report of the same order waits for it, and holds the row lock
while posting. Delivery is at least once (a crash after the platform answered but before commit
re-sends): each report carries `X-Delivery-Id` (the outbox id) and `event_id` for the receiver to dedupe."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from command.hotline_sign import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from command.loop_models import HotlineOutbox
from command.moves import utcnow
from command.settings import Settings

_CLAIM_HEAD = text("""
SELECT o.id FROM hotline_outbox o
 WHERE o.delivered_at IS NULL AND o.next_attempt_at <= :now
   AND NOT EXISTS (SELECT 1 FROM hotline_outbox p
                    WHERE p.external_id = o.external_id AND p.delivered_at IS NULL AND p.id < o.id)
 ORDER BY o.next_attempt_at, o.id
 LIMIT 1
 FOR UPDATE SKIP LOCKED
""")


@dataclass
class Delivered:
    ok: int = 0
    failed: int = 0


def backoff(settings: Settings, attempts: int) -> float:
    """Seconds before the next try after `attempts` failures: doubling, capped, with ±10 % jitter."""
    delay = min(settings.hotline_retry_base_s * 2 ** max(attempts - 1, 0), settings.hotline_retry_max_s)
    return delay * random.uniform(0.9, 1.1)


async def _post(http: httpx.AsyncClient, settings: Settings, row: HotlineOutbox) -> str | None:
    """None on success, else the error to record."""
    body = orjson.dumps(row.payload)
    ts = int(time.time())
    headers = {"Content-Type": "application/json", "X-Delivery-Id": str(row.id), TIMESTAMP_HEADER: str(ts),
               SIGNATURE_HEADER: sign(settings.hotline_secret, ts, body)}
    try:
        resp = await http.post(settings.hotline_callback_url, content=body, headers=headers,
                               timeout=settings.hotline_timeout_s)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"[:500]
    if 200 <= resp.status_code < 300:
        return None
    return f"HTTP {resp.status_code}: {resp.text[:200]}"


async def deliver_one(session: AsyncSession, http: httpx.AsyncClient, settings: Settings,
                      *, now: datetime) -> bool | None:
    """Claim and post one report (the caller commits). None when nothing is due."""
    row_id = await session.scalar(_CLAIM_HEAD, {"now": now})
    if row_id is None:
        return None
    row = await session.get(HotlineOutbox, row_id)
    assert row is not None
    error = await _post(http, settings, row)
    row.attempts += 1
    if error is None:
        row.delivered_at = utcnow()
        row.last_error = None
        return True
    row.last_error = error
    row.next_attempt_at = utcnow() + timedelta(seconds=backoff(settings, row.attempts))
    return False


async def deliver_due(sessionmaker: async_sessionmaker[AsyncSession], http: httpx.AsyncClient,
                      settings: Settings, *, limit: int) -> Delivered:
    """Post due reports one transaction each, until none is due or `limit` were tried."""
    result = Delivered()
    if not settings.hotline_callback_url:
        return result
    for _ in range(limit):
        async with sessionmaker() as session, session.begin():
            outcome = await deliver_one(session, http, settings, now=utcnow())
        if outcome is None:
            break
        if outcome:
            result.ok += 1
        else:
            result.failed += 1
    return result
