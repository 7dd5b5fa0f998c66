"""Delivers the 12345 status reports of `hotline_outbox` to the platform: in order per work order,
with exponential backoff, never lost across restarts (the rows are PostgreSQL's, written with the
change itself by a trigger — see migration 0002).

Safe with several processes: a worker claims only the oldest undelivered report of a work order
(`FOR UPDATE SKIP LOCKED`), so a later report of the same order waits for it, and holds the row lock
while posting. Delivery is at least once (a crash after the platform answered but before commit
re-sends): each report carries `X-Delivery-Id` (the outbox id) and `event_id` for the receiver to dedupe.

Every platform the same way: a report names its platform (`payload.platform`; none: the 12345 link), whose mapping
(command.intake.channels.platform_mapping) gives the URL and writes the body under their field names, signed with
that platform's secret. A platform without a URL or a secret keeps its reports until it has both."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import orjson
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from command.core.clock import utcnow
from command.core.models import HotlineOutbox, PlatformMapping
from command.core.settings import Settings
from command.intake.channels import platform_mapping
from command.intake.channels.hotline_sign import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

_CLAIM_HEAD = text("""
SELECT o.id FROM hotline_outbox o
 WHERE o.delivered_at IS NULL AND o.next_attempt_at <= :now
   AND COALESCE(o.payload ->> 'platform', '12345') = ANY(:platforms)
   AND NOT EXISTS (SELECT 1 FROM hotline_outbox p
                    WHERE p.external_id = o.external_id AND p.delivered_at IS NULL AND p.id < o.id)
 ORDER BY o.next_attempt_at, o.id
 LIMIT 1
 FOR UPDATE SKIP LOCKED
""")


@dataclass(frozen=True, slots=True)
class Target:
    """Where one platform's reports go, signed with what, written how."""

    url: str
    secret: str
    mapping: platform_mapping.Mapping


def platform_secrets(settings: Settings) -> dict[str, str]:
    """GRIDCMD_HOTLINE_PLATFORM_SECRETS: "platform=secret,…" (the 12345 link's is GRIDCMD_HOTLINE_SECRET)."""
    pairs = (p.split("=", 1) for p in settings.hotline_platform_secrets.split(",") if "=" in p)
    return {name.strip(): secret.strip() for name, secret in pairs if name.strip() and secret.strip()}


async def targets(session: AsyncSession, settings: Settings) -> dict[str, Target]:
    """Every platform that can be reported to now: a URL and a secret."""
    out: dict[str, Target] = {}
    if settings.hotline_callback_url and settings.hotline_secret:
        out["12345"] = Target(settings.hotline_callback_url, settings.hotline_secret,
                              platform_mapping.BUILTIN["12345"])
    secrets = platform_secrets(settings)
    for row in await session.scalars(select(PlatformMapping)):
        mapping = platform_mapping.Mapping.model_validate(row.mapping)
        if mapping.callback_url and secrets.get(row.platform):
            out[row.platform] = Target(mapping.callback_url, secrets[row.platform], mapping)
    return out


@dataclass
class Delivered:
    ok: int = 0
    failed: int = 0


_MAX_DOUBLINGS = 1000


def backoff(settings: Settings, attempts: int) -> float:
    """Seconds before the next try after `attempts` failures: doubling, capped, with ±10 % jitter."""
    # The exponent is bounded: 2 ** 1024 does not fit a float, and the cap applies long before.
    doublings = min(max(attempts - 1, 0), _MAX_DOUBLINGS)
    delay = min(settings.hotline_retry_base_s * 2.0 ** doublings, settings.hotline_retry_max_s)
    return delay * random.uniform(0.9, 1.1)


async def _post(http: httpx.AsyncClient, settings: Settings, target: Target, row: HotlineOutbox) -> str | None:
    """None on success, else the error to record."""
    payload = {k: v for k, v in row.payload.items() if k != "platform"}
    body = orjson.dumps(platform_mapping.outbound(target.mapping, payload))
    ts = int(time.time())
    headers = {"Content-Type": "application/json", "X-Delivery-Id": str(row.id), TIMESTAMP_HEADER: str(ts),
               SIGNATURE_HEADER: sign(target.secret, ts, body)}
    try:
        resp = await http.post(target.url, content=body, headers=headers, timeout=settings.hotline_timeout_s)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"[:500]
    if 200 <= resp.status_code < 300:
        return None
    return f"HTTP {resp.status_code}: {resp.text[:200]}"


async def deliver_one(session: AsyncSession, http: httpx.AsyncClient, settings: Settings,
                      *, now: datetime, to: dict[str, Target]) -> bool | None:
    """Claim and post one report to its platform among `to` (the caller commits). None when nothing is due."""
    row_id = await session.scalar(_CLAIM_HEAD, {"now": now, "platforms": list(to)})
    if row_id is None:
        return None
    row = await session.get(HotlineOutbox, row_id)
    assert row is not None
    error = await _post(http, settings, to[row.payload.get("platform", "12345")], row)
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
    async with sessionmaker() as session:
        to = await targets(session, settings)
    if not to:
        return result
    for _ in range(limit):
        async with sessionmaker() as session, session.begin():
            outcome = await deliver_one(session, http, settings, now=utcnow(), to=to)
        if outcome is None:
            break
        if outcome:
            result.ok += 1
        else:
            result.failed += 1
    return result
