"""Who an operator may reach: the grid workers, departments and liaisons inside their region (issue 15 item 7).

An admin or a user without a region (the top centre) reaches everyone. Otherwise a worker is in scope when one of
their grids lies in the region; a department when it serves a region inside it or one of its ancestors (the
district's power company serves every street); a liaison with their department."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from command.core.scoping import scope_region
from command.core.security import Principal
from geo.models import Region

# SQL fragments over `w` (workers) and `d` (departments); :scope is the caller's region, :scope_path its chain.
WORKER_IN_SCOPE = ("(CAST(:scope AS text) IS NULL OR EXISTS (SELECT 1 FROM regions r WHERE r.code = ANY(w.grid_codes)"
                   " AND r.path @> ARRAY[CAST(:scope AS varchar)]))")
DEPARTMENT_IN_SCOPE = ("(CAST(:scope AS text) IS NULL OR d.region_code = ANY(CAST(:scope_path AS varchar[])) OR "
                       "EXISTS (SELECT 1 FROM regions r WHERE r.code = d.region_code "
                       "AND r.path @> ARRAY[CAST(:scope AS varchar)]))")


async def scope_params(session: AsyncSession, principal: Principal) -> dict[str, object]:
    """The :scope and :scope_path parameters of the fragments above for `principal`."""
    scope = scope_region(principal)
    path: list[str] = []
    if scope is not None:
        path = list(await session.scalar(select(Region.path).where(Region.code == scope)) or [scope])
    return {"scope": scope, "scope_path": path}


async def sender_path(session: AsyncSession, principal: Principal) -> list[str]:
    """The region chain of the caller's own region ([] for the top centre)."""
    if not principal.region_code:
        return []
    return list(await session.scalar(select(Region.path).where(Region.code == principal.region_code)) or [])
