"""Login throttling in Redis, per account (the username as typed, known or not) and per client address, with
back-off (dispatch/scripts/login_gate.lua and login_failed.lua say exactly how; docs/security.md says why).

A throttled account is refused whatever the password and wherever the attempt comes from, until its back-off
has passed. An address is throttled by its failures only: many good logins from one address (an office behind
one NAT, the demo simulator's 320 workers) never are."""

from __future__ import annotations

import hashlib
import math
import time

from redis.asyncio import Redis

from command.core.settings import Settings
from dispatch import keys
from dispatch.scripts import script


def _account_key(username: str) -> str:
    # Digested: the username as typed may be anything up to the body limit.
    return keys.login_account(hashlib.sha256(username.encode("utf-8", "surrogatepass")).hexdigest()[:32])


def _args(settings: Settings, limit: int) -> list[int]:
    return [int(time.time() * 1000), limit, int(settings.login_backoff_s * 1000),
            int(settings.login_backoff_max_s * 1000), settings.login_failure_window_s * 1000]


async def admit(redis: Redis, settings: Settings, *, username: str, address: str) -> int:
    """0 when this attempt may check its password (and it now counts against the account until it succeeds);
    else the whole seconds to wait before trying again."""
    wait_ms = await script(redis, "login_gate")(
        keys=[_account_key(username), keys.login_address(address)], args=_args(settings, settings.login_max_failures))
    return math.ceil(int(wait_ms) / 1000) if int(wait_ms) > 0 else 0


async def succeeded(redis: Redis, *, username: str) -> None:
    """The right password: the account's failures are forgotten (the address's are not)."""
    await redis.delete(_account_key(username))


async def failed(redis: Redis, settings: Settings, *, address: str) -> None:
    """A wrong password or an unknown user, from `address` (the account's failure was counted when admitted)."""
    await script(redis, "login_failed")(keys=[keys.login_address(address)],
                                        args=_args(settings, settings.login_address_max_failures))
