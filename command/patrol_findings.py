"""What a grid worker finds on a patrol visit becomes an incident through the one intake (channel
patrol), linked to the visit (and so to its task); photos ride on the finding's event."""

from __future__ import annotations

from collections.abc import Sequence

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from command.errors import Forbidden
from command.events import Actor
from command.intake import AlertIn, Submitted, submit_alert
from command.loop_models import PatrolFinding
from command.moves import record
from command.patrol import visit_for_worker
from command.security import Principal
from command.settings import Settings
from command.uploads import check_photos


async def report_finding(
    session: AsyncSession,
    redis: Redis,
    *,
    visit_id: int,
    principal: Principal,
    category: str,
    description: str,
    lon: float,
    lat: float,
    crs: str,
    settings: Settings,
    priority: int | None = None,
    photos: Sequence[str] = (),
    idempotency_key: str | None = None,
) -> Submitted:
    if principal.worker_id is None:
        raise Forbidden("only a grid worker reports patrol findings")
    visit = await visit_for_worker(session, visit_id=visit_id, worker_id=principal.worker_id)
    photo_ids = await check_photos(session, photos)
    actor = Actor(name=principal.username, user_id=principal.user_id)
    submitted = await submit_alert(
        session, redis, actor=actor, settings=settings, idempotency_key=idempotency_key,
        key_scope=f"patrol:{principal.worker_id}",
        alert=AlertIn(category=category, description=description, lon=lon, lat=lat, crs=crs, channel="patrol",
                      priority=priority))
    if submitted.created:
        session.add(PatrolFinding(incident_id=submitted.incident.id, visit_id=visit.id))
        await session.flush()
        await record(session, incident=submitted.incident, actor=actor, kind="incident.patrol_finding",
                     payload={"patrol": {"visit_id": visit.id, "task_id": visit.task_id}, "photos": photo_ids})
    return submitted
