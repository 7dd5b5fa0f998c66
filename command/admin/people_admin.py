"""Accounts on the admin console: create one (with its grid-worker record), edit contact and worker details, reset a
password, list what a (region) admin may see. Role/scope, disable and ending sessions are command.admin.account_admin.

A grid worker's kind is one of WORKER_KINDS (网格长, 专职网格员, 兼职网格员, 微网格员), bound to grids or micro-grids
(its `grid_codes`), with a phone, a maximum load and duty hours. Every change is audited by the caller's route."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import time
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from command.admin.admin_scope import admin_region, ensure_region, region_codes_under
from command.admin.audit import snapshot as snap
from command.admin.users import check_password, check_role_and_scope
from command.core.errors import Conflict, InvalidInput, NotFound
from command.core.models import ROLES, User, Worker
from command.core.security import Principal, hash_password
from geo.models import Region

WORKER_KINDS = {"leader": "网格长", "fulltime": "专职网格员", "parttime": "兼职网格员", "micro": "微网格员"}
USER_FIELDS = ("username", "display_name", "phone", "role", "region_code", "department_code", "active",
               "petition_role")
WORKER_FIELDS = ("kind", "grid_codes", "max_load", "shift_start", "shift_end", "phone")


@dataclass(slots=True)
class WorkerSpec:
    kind: str = "fulltime"
    grid_codes: list[str] = field(default_factory=list)
    max_load: int = 2
    shift_start: time | None = None
    shift_end: time | None = None


@dataclass(slots=True)
class AccountSpec:
    username: str
    password: str
    role: str
    display_name: str | None = None
    phone: str | None = None
    region_code: str | None = None
    department_code: str | None = None
    worker: WorkerSpec | None = None


async def check_worker(session: AsyncSession, principal: Principal, spec: WorkerSpec) -> None:
    if spec.kind not in WORKER_KINDS:
        raise InvalidInput(f"unknown worker kind {spec.kind!r}; expected one of {', '.join(WORKER_KINDS)}")
    if not spec.grid_codes:
        raise InvalidInput("a grid worker is bound to at least one grid or micro-grid")
    levels = dict((await session.execute(select(Region.code, Region.level)
                                         .where(Region.code.in_(spec.grid_codes)))).all())
    for code in spec.grid_codes:
        if code not in levels:
            raise InvalidInput(f"unknown grid {code!r}")
        if levels[code] not in ("grid", "microgrid"):
            raise InvalidInput(f"{code!r} is a {levels[code]}, not a grid or micro-grid")
        await ensure_region(session, principal, code)
    if not 1 <= spec.max_load <= 50:
        raise InvalidInput("max load must be 1-50")


async def check_account(session: AsyncSession, principal: Principal, spec: AccountSpec) -> None:
    """Every rule of an account, without writing (InvalidInput / Conflict / Forbidden)."""
    if not spec.username or len(spec.username) > 64:
        raise InvalidInput("username must be 1-64 characters")
    check_password(spec.password)
    if spec.role == "worker":
        if spec.worker is None:
            raise InvalidInput("a worker account needs its worker details (kind, grids)")
        await check_worker(session, principal, spec.worker)
        spec.region_code = spec.region_code or spec.worker.grid_codes[0]
    elif spec.worker is not None:
        raise InvalidInput("only a worker account has worker details")
    await check_role_and_scope(session, role=spec.role, region_code=spec.region_code,
                               department_code=spec.department_code)
    await ensure_region(session, principal, spec.region_code)
    if await session.scalar(select(User.id).where(User.username == spec.username)):
        raise Conflict(f"user {spec.username!r} exists")


async def create_account(session: AsyncSession, principal: Principal, spec: AccountSpec,
                         password_hash: str | None = None) -> tuple[User, Worker | None]:
    await check_account(session, principal, spec)
    hashed = password_hash or await asyncio.to_thread(hash_password, spec.password)
    user = User(username=spec.username, display_name=spec.display_name or spec.username, phone=spec.phone,
                role=spec.role, region_code=spec.region_code, department_code=spec.department_code,
                password_hash=hashed)
    session.add(user)
    await session.flush()
    worker = None
    if spec.worker is not None:
        w = spec.worker
        worker = Worker(user_id=user.id, name=user.display_name, phone=spec.phone, kind=w.kind,
                        grid_codes=w.grid_codes, max_load=w.max_load, shift_start=w.shift_start,
                        shift_end=w.shift_end)
        session.add(worker)
        await session.flush()
    return user, worker


async def account(session: AsyncSession, principal: Principal, user_id: int) -> tuple[User, Worker | None]:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    await ensure_region(session, principal, user.region_code)
    worker = await session.scalar(select(Worker).where(Worker.user_id == user.id))
    return user, worker


def snapshot(user: User, worker: Worker | None) -> dict[str, Any]:
    out = snap(user, USER_FIELDS)
    if worker is not None:
        out["worker"] = snap(worker, WORKER_FIELDS)
    return out


async def edit_account(session: AsyncSession, principal: Principal, user_id: int, *, display_name: str | None,
                       phone: str | None, worker: WorkerSpec | None,
                       petition_role: str | None = None) -> tuple[User, Worker | None]:
    user, record = await account(session, principal, user_id)
    if petition_role is not None:
        user.petition_role = _petition_role(user, petition_role or None)
    if display_name is not None:
        user.display_name = display_name
    if phone is not None:
        user.phone = phone or None
    if worker is not None:
        if record is None:
            raise InvalidInput(f"user {user_id} is not a grid worker")
        await check_worker(session, principal, worker)
        record.kind, record.grid_codes, record.max_load = worker.kind, worker.grid_codes, worker.max_load
        record.shift_start, record.shift_end = worker.shift_start, worker.shift_end
    if record is not None:
        record.name = user.display_name
        record.phone = user.phone
    await session.flush()
    return user, record


# Who may hold a petition duty (信访): staff work at the centre's desks; a leader (领导包案) is a supervisor.
PETITION_DUTY_ROLES = {"staff": ("operator", "supervisor", "admin"), "leader": ("supervisor", "admin")}


def _petition_role(user: User, petition_role: str | None) -> str | None:
    if petition_role is not None and user.role not in PETITION_DUTY_ROLES[petition_role]:
        raise InvalidInput(f"a petition {petition_role} is one of {', '.join(PETITION_DUTY_ROLES[petition_role])}, "
                           f"not a {user.role}", details=[{"field": "petition_role", "reason": "role"}])
    return petition_role


async def list_accounts(session: AsyncSession, principal: Principal, *, role: str | None = None,
                        search: str | None = None, limit: int = 500) -> list[tuple[User, Worker | None]]:
    query = select(User, Worker).outerjoin(Worker, Worker.user_id == User.id)
    if (region := admin_region(principal)) is not None:
        query = query.where(User.region_code.in_(region_codes_under(region)))
    if role is not None:
        if role not in ROLES:
            raise InvalidInput(f"unknown role {role!r}")
        query = query.where(User.role == role)
    if search:
        like = f"%{search}%"
        query = query.where(or_(User.username.ilike(like), User.display_name.ilike(like), User.phone.ilike(like)))
    rows = (await session.execute(query.order_by(User.id).limit(limit))).all()
    return list(rows)
