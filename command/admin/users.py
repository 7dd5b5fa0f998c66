"""User accounts: create, check a password (docs/security.md)."""

from __future__ import annotations

import asyncio

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from command.core.errors import Conflict, InvalidInput, NotAuthenticated
from command.core.models import ROLES, Department, User, Worker
from command.core.security import Principal, hash_password, verify_or_waste
from geo.models import Region

MIN_PASSWORD = 6
WRONG_CREDENTIALS = "wrong username or password"


async def check_role_and_scope(session: AsyncSession, *, role: str, region_code: str | None,
                               department_code: str | None) -> None:
    """InvalidInput unless the role exists and the scope names a known region and department."""
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    if role == "liaison" and not department_code:
        raise InvalidInput("a liaison needs --department")
    if region_code and not await session.scalar(select(Region.id).where(Region.code == region_code)):
        raise InvalidInput(f"unknown region {region_code!r}")
    if department_code and not await session.scalar(
        select(Department.id).where(Department.code == department_code)
    ):
        raise InvalidInput(f"unknown department {department_code!r}")


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"password must be at least {MIN_PASSWORD} characters")


async def create_user(
    session: AsyncSession,
    *,
    username: str,
    password: str,
    role: str,
    region_code: str | None = None,
    department_code: str | None = None,
    display_name: str | None = None,
    phone: str | None = None,
) -> User:
    """Create a user; a scope that names an unknown region or department is refused."""
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    if not username or len(username) > 64:
        raise InvalidInput("username must be 1-64 characters")
    check_password(password)
    await check_role_and_scope(session, role=role, region_code=region_code, department_code=department_code)
    if await session.scalar(select(User.id).where(User.username == username)):
        raise Conflict(f"user {username!r} exists")
    user = User(
        username=username,
        display_name=display_name or username,
        phone=phone,
        role=role,
        region_code=region_code,
        department_code=department_code,
        password_hash=hash_password(password),
    )
    session.add(user)
    await session.flush()
    return user


def plausible_username(username: str) -> bool:
    """Whether `username` could name an account at all (what cannot is never looked up)."""
    return 0 < len(username) <= 64 and not any(ord(c) < 32 or 127 <= ord(c) < 160 for c in username)


async def check_credentials(session: AsyncSession, *, username: str,
                            password: str) -> tuple[Principal | None, int | None]:
    """(the principal, its user id) for the right password of an active account, else (None, the user id if the
    username names an account). Takes the same time either way: an unknown, disabled or unusable account is
    checked against a dummy argon2 hash (command.core.security.verify_or_waste), so timing tells nobody which
    usernames exist. The hash runs in a thread: argon2 takes ~0.1 s of CPU, which must not stall the event loop."""
    user = None
    if plausible_username(username):
        user = await session.scalar(select(User).where(User.username == username))
    usable = user.password_hash if user is not None and user.active else None
    if not await asyncio.to_thread(verify_or_waste, password, usable):
        return None, user.id if user is not None else None
    assert user is not None
    worker_id = None
    if user.role == "worker":
        worker_id = await session.scalar(select(Worker.id).where(Worker.user_id == user.id))
    principal = Principal(
        user_id=user.id,
        username=user.username,
        role=user.role,
        region_code=user.region_code,
        department_code=user.department_code,
        worker_id=worker_id,
        version=user.token_version,
    )
    return principal, user.id


async def authenticate(session: AsyncSession, *, username: str, password: str) -> Principal:
    """The principal for the right password of an active account; NotAuthenticated otherwise (no throttling,
    no audit: logins over HTTP go through command.admin.login)."""
    principal, _ = await check_credentials(session, username=username, password=password)
    if principal is None:
        raise NotAuthenticated(WRONG_CREDENTIALS)
    return principal
