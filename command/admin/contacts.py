"""The contact book (通讯录): grid workers, departments (duty phone) and liaisons within the caller's scope,
searched by name, phone, grid or department."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from command.admin.comms_scope import DEPARTMENT_IN_SCOPE, WORKER_IN_SCOPE, scope_params
from command.core.security import Principal

MAX_ROWS = 200  # per kind; a search narrows it down
KINDS = ("worker", "department", "liaison")

_WORKERS = f"""
SELECT w.id, w.name, w.phone, w.kind, w.grid_codes[1] AS grid, g.name AS grid_name, w.on_duty, u.id AS user_id
  FROM workers w LEFT JOIN users u ON u.id = w.user_id LEFT JOIN regions g ON g.code = w.grid_codes[1]
 WHERE {WORKER_IN_SCOPE} AND (u.id IS NULL OR u.active)
   AND (CAST(:q AS text) IS NULL OR w.name ILIKE :like OR w.phone ILIKE :like OR g.name ILIKE :like
        OR w.grid_codes[1] ILIKE :like)
 ORDER BY g.name NULLS LAST, w.kind <> 'leader', w.name LIMIT :limit"""
_DEPARTMENTS = f"""
SELECT d.code, d.name, d.kind, d.phone, d.region_code, r.name AS region_name
  FROM departments d LEFT JOIN regions r ON r.code = d.region_code
 WHERE {DEPARTMENT_IN_SCOPE}
   AND (CAST(:q AS text) IS NULL OR d.name ILIKE :like OR d.phone ILIKE :like OR d.kind ILIKE :like)
 ORDER BY r.depth NULLS FIRST, d.name LIMIT :limit"""
_LIAISONS = f"""
SELECT u.id, u.display_name AS name, u.phone, d.code AS department_code, d.name AS department_name
  FROM users u JOIN departments d ON d.code = u.department_code
 WHERE u.role = 'liaison' AND u.active AND {DEPARTMENT_IN_SCOPE}
   AND (CAST(:q AS text) IS NULL OR u.display_name ILIKE :like OR u.phone ILIKE :like OR d.name ILIKE :like)
 ORDER BY d.name, u.display_name LIMIT :limit"""


@dataclass(frozen=True, slots=True)
class ContactBook:
    workers: list[dict[str, Any]]
    departments: list[dict[str, Any]]
    liaisons: list[dict[str, Any]]


def _like(q: str) -> str:
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def contact_book(session: AsyncSession, principal: Principal, *, q: str | None = None,
                       kinds: tuple[str, ...] = KINDS, limit: int = MAX_ROWS) -> ContactBook:
    """The contacts the caller may reach, `q` matched anywhere in a name, phone, grid or department."""
    params = {**await scope_params(session, principal), "q": q or None, "like": _like(q or ""), "limit": limit}

    async def rows(sql: str, kind: str) -> list[dict[str, Any]]:
        if kind not in kinds:
            return []
        return [dict(row) for row in (await session.execute(text(sql), params)).mappings()]

    return ContactBook(workers=await rows(_WORKERS, "worker"), departments=await rows(_DEPARTMENTS, "department"),
                       liaisons=await rows(_LIAISONS, "liaison"))
