"""A password login: throttled (command.admin.login_throttle), timing-safe (command.admin.users.check_credentials) and
audited (one `login_attempts` row per attempt, whatever its outcome) — docs/security.md."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession

from command.admin import login_throttle
from command.admin.users import WRONG_CREDENTIALS, check_credentials
from command.core.errors import GridcmdError, NotAuthenticated, RateLimited, Unavailable
from command.core.models import LoginAttempt
from command.core.security import Principal
from command.core.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LoginOutcome:
    """A login either gives a principal or is refused; a refusal is returned, not raised, so that the caller
    commits the audit row before answering."""

    principal: Principal | None = None
    refusal: GridcmdError | None = None


def _printable(text: str, limit: int) -> str:
    return "".join(c if c.isprintable() else "\ufffd" for c in text[:limit])


async def log_in(session: AsyncSession, redis: Redis, *, settings: Settings, username: str, password: str,
                 address: str) -> LoginOutcome:
    """Check `username`/`password` from `address`. Unknown users, disabled accounts and wrong passwords get the
    same answer in the same time; a throttled account or address gets RateLimited with the wait. Redis down: the
    login is refused (503) rather than let through unthrottled."""
    try:
        wait_s = await login_throttle.admit(redis, settings, username=username, address=address)
    except RedisError as exc:  # fail closed: without the counts, nothing would stop guessing
        raise Unavailable("logging in is unavailable for a moment (throttling state unreachable); try again") from exc
    if wait_s:
        _audit(session, username=username, address=address, user_id=None, result="throttled")
        return LoginOutcome(refusal=RateLimited(f"too many failed logins; try again in {wait_s} s",
                                                retry_after_s=wait_s))
    principal, user_id = await check_credentials(session, username=username, password=password)
    result = "success" if principal is not None else "failure"
    _audit(session, username=username, address=address, user_id=user_id, result=result)
    try:
        if principal is None:
            await login_throttle.failed(redis, settings, address=address)
        else:
            await login_throttle.succeeded(redis, username=username)
    except RedisError as exc:  # decided already; the account's attempt was counted when it was admitted
        log.warning("recording a login %s in Redis failed: %s", result, exc)
    if principal is None:
        return LoginOutcome(refusal=NotAuthenticated(WRONG_CREDENTIALS))
    return LoginOutcome(principal=principal)


def _audit(session: AsyncSession, *, username: str, address: str, user_id: int | None, result: str) -> None:
    session.add(LoginAttempt(username=_printable(username, 64), address=_printable(address, 64), user_id=user_id,
                             result=result))
