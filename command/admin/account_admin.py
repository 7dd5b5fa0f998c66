"""Changing what an account may do: disable/enable, role and scope, password, end its sessions, log out one.

Each change takes effect on the account's tokens at once (command.admin.accounts): the users row's token version moves
(a trigger of migration 0007 bumps it on a password, role, scope or active change; `end_sessions` bumps it
itself), or the session is written to `revoked_sessions`. The user ids changed are kept on the session; whoever
commits announces them through Redis after the commit (`take_changed` + `announce`), so every web process
forgets its cached state of them and re-checks their sockets at once. A lost announcement is bounded by
account_cache_s (docs/security.md)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from datetime import UTC, datetime

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from command.admin.users import check_password, check_role_and_scope
from command.core.errors import NotFound
from command.core.models import RevokedSession, User
from command.core.redis_client import database_number
from command.core.security import TokenClaims, hash_password
from command.core.settings import Settings
from dispatch import keys

log = logging.getLogger(__name__)

_CHANGED = "gridcmd_accounts_changed"


def note_changed(session: AsyncSession, user_id: int) -> None:
    session.info.setdefault(_CHANGED, set()).add(user_id)


def take_changed(session: AsyncSession) -> set[int]:
    """The user ids changed in this session since the last call (to announce after the commit)."""
    changed: set[int] = session.info.pop(_CHANGED, set())
    return changed


async def announce(redis: Redis, user_ids: Iterable[int]) -> bool:
    """Tell every web process these accounts changed (after the commit). Never raises: the change is committed,
    and processes that miss it see it within account_cache_s."""
    ids = sorted(set(user_ids))
    if not ids:
        return True
    try:
        await redis.publish(channel(redis), ",".join(map(str, ids)))
        return True
    except RedisError as exc:
        log.warning("announcing account changes %s failed (seen within account_cache_s): %s", ids, exc)
        return False


def channel(redis: Redis) -> str:
    """The announcement channel of the Redis database this client uses."""
    return keys.accounts_channel(database_number(redis))


def parse_announcement(data: str) -> set[int]:
    return {int(part) for part in data.split(",") if part.strip().isdigit()}


async def _user(session: AsyncSession, user_id: int) -> User:
    user = await session.get(User, user_id, with_for_update=True)
    if user is None:
        raise NotFound(f"no user {user_id}")
    return user


async def user_by_name(session: AsyncSession, username: str) -> User:
    user = await session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user {username!r}")
    return user


async def _bumped(session: AsyncSession, user: User) -> User:
    await session.flush()  # the trigger moves token_version
    await session.refresh(user, ["token_version"])
    note_changed(session, user.id)
    return user


async def set_active(session: AsyncSession, *, user_id: int, active: bool) -> User:
    """Disable (every token refused at once) or enable (old tokens stay refused: the version moved) an account."""
    user = await _user(session, user_id)
    if user.active == active:
        return user
    user.active = active
    return await _bumped(session, user)


async def set_role(session: AsyncSession, *, user_id: int, role: str, region_code: str | None,
                   department_code: str | None) -> User:
    """Give the account another role and scope (checked as at creation); its tokens stop at once."""
    await check_role_and_scope(session, role=role, region_code=region_code, department_code=department_code)
    user = await _user(session, user_id)
    if (user.role, user.region_code, user.department_code) == (role, region_code, department_code):
        return user
    user.role, user.region_code, user.department_code = role, region_code, department_code
    if (user.petition_role == "leader" and role not in ("supervisor", "admin")) or (
            user.petition_role == "staff" and role not in ("operator", "supervisor", "admin")):
        user.petition_role = None  # a petition duty the new role cannot hold (people_admin.PETITION_DUTY_ROLES)
    return await _bumped(session, user)


async def set_password(session: AsyncSession, *, user_id: int, password: str) -> User:
    """A new password; every token issued under the old one stops at once."""
    check_password(password)
    user = await _user(session, user_id)
    user.password_hash = hash_password(password)
    return await _bumped(session, user)


async def end_sessions(session: AsyncSession, *, user_id: int) -> User:
    """End every session of the account (all its tokens, on every device); it may log in again."""
    user = await _user(session, user_id)
    await session.execute(update(User).where(User.id == user.id).values(token_version=User.token_version + 1))
    await session.refresh(user, ["token_version"])
    note_changed(session, user.id)
    return user


async def revoke_session(session: AsyncSession, *, claims: TokenClaims, settings: Settings) -> None:
    """Log out: the token's session (it and every renewal of it) is refused from now on. Kept until the last
    token the session could still hold has expired (every one was issued before now, for token_ttl_s at most);
    the user's revocations that have run out are dropped meanwhile."""
    user_id = claims.principal.user_id
    until = datetime.fromtimestamp(max(claims.expires_at, time.time() + settings.token_ttl_s), UTC)
    await session.execute(insert(RevokedSession).values(session_id=claims.session_id, user_id=user_id,
                                                        expires_at=until).on_conflict_do_nothing())
    await session.execute(delete(RevokedSession).where(RevokedSession.user_id == user_id,
                                                       RevokedSession.expires_at <= func.now()))
    note_changed(session, user_id)
