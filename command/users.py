"""User accounts: create, authenticate."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from command.errors import Conflict, InvalidInput, NotAuthenticated
from command.models import ROLES, Department, User, Worker
from command.security import Principal, hash_password, verify_password
from geo.models import Region


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
    if len(password) < 6:
        raise InvalidInput("password must be at least 6 characters")
    if role == "liaison" and not department_code:
        raise InvalidInput("a liaison needs --department")
    if region_code and not await session.scalar(select(Region.id).where(Region.code == region_code)):
        raise InvalidInput(f"unknown region {region_code!r}")
    if department_code and not await session.scalar(
        select(Department.id).where(Department.code == department_code)
    ):
        raise InvalidInput(f"unknown department {department_code!r}")
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


async def authenticate(session: AsyncSession, *, username: str, password: str) -> Principal:
    user = await session.scalar(select(User).where(User.username == username, User.active.is_(True)))
    if user is None or not verify_password(password, user.password_hash):
        raise NotAuthenticated("wrong username or password")
    worker_id = None
    if user.role == "worker":
        worker_id = await session.scalar(select(Worker.id).where(Worker.user_id == user.id))
    return Principal(
        user_id=user.id,
        username=user.username,
        role=user.role,
        region_code=user.region_code,
        department_code=user.department_code,
        worker_id=worker_id,
    )
