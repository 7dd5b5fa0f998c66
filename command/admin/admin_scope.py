"""What an administrator may touch. An admin without a region runs the whole installation; an admin whose account
has a region (a region admin) sees and edits only what lies inside that region (its subtree of the region tree)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from command.core.errors import Forbidden, InvalidInput
from command.core.scoping import array_contains
from command.core.security import Principal
from geo.models import Region


def admin_region(principal: Principal) -> str | None:
    """The region a region admin is limited to; None for an installation-wide admin."""
    return principal.region_code if principal.role == "admin" and principal.region_code else None


def region_codes_under(region: str) -> Select[str]:
    """The codes of a region and everything below it (for `column.in_(...)`)."""
    return select(Region.code).where(array_contains(Region.path, region))


async def region_path(session: AsyncSession, code: str) -> list[str]:
    path = await session.scalar(select(Region.path).where(Region.code == code))
    if path is None:
        raise InvalidInput(f"unknown region {code!r}")
    return list(path)


async def ensure_region(session: AsyncSession, principal: Principal, code: str | None) -> None:
    """Refuse a region the caller may not administer (InvalidInput for an unknown one). No region (the whole
    installation) is for installation-wide admins only."""
    if code is not None:
        path = await region_path(session, code)
    limit = admin_region(principal)
    if limit is None:
        return
    if code is None:
        raise Forbidden("only an administrator without a region may change installation-wide settings")
    if limit not in path:
        raise Forbidden(f"region {code!r} is outside your region {limit!r}")


async def ensure_regions(session: AsyncSession, principal: Principal, codes: Iterable[str]) -> None:
    for code in codes:
        await ensure_region(session, principal, code)


def in_scope(principal: Principal, path: Iterable[str] | None) -> bool:
    """Whether a thing on this region chain is the caller's to see (no chain: installation-wide)."""
    limit = admin_region(principal)
    return limit is None or (path is not None and limit in path)
