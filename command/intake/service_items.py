"""The catalogue item (服务事项) a request is filed from: the resident's guide on /r, the hotline form and the
counter name one by its code; it must be published (active) and name a category, and a request filed from it is
about that category. The incident keeps the code (incidents.service_item_code)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from command.core.errors import InvalidInput
from command.core.models import ServiceItem


def _bad(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, details=[{"field": field, "reason": message}])


async def active_item(session: AsyncSession, code: str, *, field: str = "service_item") -> ServiceItem:
    """The published item of this code, which names a category (InvalidInput on `field` otherwise)."""
    item = await session.scalar(select(ServiceItem).where(ServiceItem.code == code, ServiceItem.active.is_(True)))
    if item is None:
        raise _bad(field, f"no active catalogue item {code!r}")
    if not item.category_code:
        raise _bad(field, f"catalogue item {code} names no category; an admin sets it on /admin")
    return item


async def item_of_request(session: AsyncSession, code: str | None, *, category: str) -> ServiceItem | None:
    """The item a request of `category` names (None: it names none); refused when the item is about another
    category, so that the two never disagree."""
    if code is None:
        return None
    item = await active_item(session, code)
    if item.category_code != category:
        raise _bad("service_item", f"catalogue item {code} is filed under category {item.category_code}, "
                                   f"not {category}")
    return item
