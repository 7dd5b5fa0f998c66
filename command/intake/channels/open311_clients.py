"""Open311 client applications: an admin issues each one an api_key (shown once, kept as its SHA-256), with its
own rate limit of POSTs a minute counted in Redis, so every web process shares the count."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from command.core.errors import Conflict, Forbidden, InvalidInput, NotFound, RateLimited
from command.core.models import Open311Client
from dispatch import keys

WINDOW_S = 60
KEY_BYTES = 24  # 32 URL-safe characters
MAX_NAME = 100
MAX_RATE = 100_000


@dataclass(frozen=True, slots=True)
class Issued:
    client: Open311Client
    api_key: str  # the only time the key exists in clear


def digest(api_key: str) -> str:
    return hashlib.sha256(api_key.encode("utf-8", "replace")).hexdigest()


def describe(client: Open311Client) -> dict[str, object]:
    return {"id": client.id, "name": client.name, "key_prefix": client.key_prefix,
            "rate_per_min": client.rate_per_min, "active": client.active,
            "created_at": client.created_at.isoformat() if client.created_at else None}


async def issue(session: AsyncSession, *, name: str, rate_per_min: int, created_by: int | None) -> Issued:
    """A new client application with a fresh api_key."""
    name = name.strip()
    if not 0 < len(name) <= MAX_NAME:
        raise InvalidInput(f"name must be 1-{MAX_NAME} characters",
                           details=[{"field": "name", "reason": "length"}])
    if not 1 <= rate_per_min <= MAX_RATE:
        raise InvalidInput(f"rate_per_min must be 1-{MAX_RATE}",
                           details=[{"field": "rate_per_min", "reason": "range"}])
    if await session.scalar(select(Open311Client.id).where(Open311Client.name == name)) is not None:
        raise Conflict(f"an Open311 client named {name!r} exists already")
    api_key = secrets.token_urlsafe(KEY_BYTES)
    client = Open311Client(name=name, key_sha256=digest(api_key), key_prefix=api_key[:6],
                           rate_per_min=rate_per_min, active=True, created_by=created_by)
    session.add(client)
    await session.flush()
    await session.refresh(client)
    return Issued(client=client, api_key=api_key)


async def set_active(session: AsyncSession, *, name: str, active: bool) -> Open311Client:
    client = await session.scalar(select(Open311Client).where(Open311Client.name == name))
    if client is None:
        raise NotFound(f"no Open311 client named {name!r}")
    client.active = active
    await session.flush()
    return client


async def listing(session: AsyncSession) -> list[Open311Client]:
    return list(await session.scalars(select(Open311Client).order_by(Open311Client.id)))


async def authenticate(session: AsyncSession, api_key: str | None) -> Open311Client:
    """The active client holding this key; Forbidden otherwise (Open311 answers a bad key with 403)."""
    if not api_key:
        raise Forbidden("api_key is required to submit a service request")
    client = await session.scalar(select(Open311Client).where(Open311Client.key_sha256 == digest(api_key)))
    if client is None or not client.active:
        raise Forbidden("invalid api_key")
    return client


async def take_request(redis: Redis, client: Open311Client, *, now: float | None = None) -> None:
    """Count one POST of the client in the current minute; RateLimited beyond its limit."""
    now = time.time() if now is None else now
    window = int(now) // WINDOW_S
    key = keys.rate_window("open311", f"c{client.id}", window)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.incr(key)
        pipe.expire(key, WINDOW_S * 2)
        count, _ = await pipe.execute()
    if count > client.rate_per_min:
        raise RateLimited(f"too many requests from this client; at most {client.rate_per_min} a minute",
                          retry_after_s=max(1, (window + 1) * WINDOW_S - int(now)))
