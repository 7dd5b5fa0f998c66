"""A hotline platform link, inbound: a signed work order (their id, deadline, category, location,
description) becomes an incident through the one intake (channel hotline, external_id = their id, so a
re-sent order returns the same incident). Their category code maps to ours (`hotline_categories` for the 12345
link, the platform's mapping for others: command.intake.channels.platform_mapping); their deadline becomes the
incident's resolve deadline. Status reports back: command.intake.channels.outbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from command.core.clock import utcnow
from command.core.errors import InvalidInput
from command.core.events import Actor
from command.core.models import Category, HotlineCategory
from command.core.settings import Settings
from command.deadlines.deadlines import move_resolve
from command.intake.intake import AlertIn, Submitted, submit_alert

ACTOR = Actor.system("12345")
KEY_SCOPE = "12345"  # the platform's work-order ids are an id space of their own (command.intake.intake)


def platform_scope(platform: str) -> str:
    """The id space of a mapped platform's work orders ("p:" keeps it apart from user scopes "u<id>")."""
    return KEY_SCOPE if platform == KEY_SCOPE else f"p:{platform}"


@dataclass(frozen=True, slots=True)
class WorkOrder:
    id: str
    category: str
    description: str
    lon: float
    lat: float
    deadline: datetime
    crs: str = "wgs84"
    priority: int | None = None
    reporter_name: str | None = None
    reporter_phone: str | None = None


async def receive(session: AsyncSession, redis: Redis, *, order: WorkOrder, settings: Settings,
                  platform: str = KEY_SCOPE, categories: dict[str, str] | None = None) -> Submitted:
    """File one work order of `platform`; its categories from `categories` (a mapping's table) or, when None, from
    hotline_categories."""
    if categories is not None:
        ours = categories.get(order.category)
    else:
        row = await session.get(HotlineCategory, order.category)
        ours = row.category_code if row is not None else None
    if ours is None:
        raise InvalidInput(f"unmapped {platform} category {order.category!r}",
                           details=[{"field": "category", "reason": "no mapping to a gridcmd category"}])
    if order.deadline.tzinfo is None:
        raise InvalidInput("deadline needs a timezone", details=[{"field": "deadline", "reason": "naive time"}])
    submitted = await submit_alert(
        session, redis, actor=ACTOR if platform == KEY_SCOPE else Actor.system(platform),
        settings=settings, key_scope=platform_scope(platform),
        alert=AlertIn(category=ours, description=order.description, lon=order.lon, lat=order.lat,
                      crs=order.crs, channel="hotline", priority=order.priority, external_id=order.id,
                      reporter_name=order.reporter_name, reporter_phone=order.reporter_phone))
    if submitted.created:
        if order.deadline <= utcnow():
            # Raising rolls the whole intake back: nothing is stored for a work order we refuse.
            raise InvalidInput("deadline is already past", details=[{"field": "deadline", "reason": "past"}])
        await move_resolve(session, incident=submitted.incident, order=None, due_at=order.deadline)
    return submitted


async def set_mapping(session: AsyncSession, *, their_code: str, category_code: str) -> None:
    if not their_code or len(their_code) > 64:
        raise InvalidInput("their_code must be 1-64 characters")
    if await session.get(Category, category_code) is None:
        raise InvalidInput(f"unknown category {category_code!r}")
    await session.execute(insert(HotlineCategory).values(their_code=their_code, category_code=category_code)
                          .on_conflict_do_update(index_elements=["their_code"], set_={"category_code": category_code}))


async def mappings(session: AsyncSession) -> dict[str, str]:
    rows = await session.execute(select(HotlineCategory.their_code, HotlineCategory.category_code)
                                 .order_by(HotlineCategory.their_code))
    return dict(rows.all())
