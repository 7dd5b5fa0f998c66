"""What a grid worker finds on a patrol visit becomes an incident through the one intake (channel
patrol), linked to the visit (and so to its task); photos ride on the finding's event."""

from __future__ import annotations

from collections.abc import Sequence

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from command.core.errors import Forbidden
from command.core.events import Actor
from command.core.models import PatrolFinding
from command.core.moves import record
from command.core.security import Principal
from command.core.settings import Settings
from command.deadlines.patrol import visit_for_worker
from command.intake.intake import AlertIn, Submitted, stored_key, submit_alert
from command.orders.uploads import attach_uploads, check_photos


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
    scope = f"patrol:{principal.worker_id}"
    photo_ids = await check_photos(session, photos, uploaded_by=principal.user_id,  # before intake
                                   replay_key=stored_key(scope, idempotency_key))
    actor = Actor(name=principal.username, user_id=principal.user_id)
    submitted = await submit_alert(
        session, redis, actor=actor, settings=settings, idempotency_key=idempotency_key, key_scope=scope,
        alert=AlertIn(category=category, description=description, lon=lon, lat=lat, crs=crs, channel="patrol",
                      priority=priority))
    if submitted.created:
        photo_ids = await attach_uploads(session, photos=photo_ids, uploaded_by=principal.user_id,
                                         incident_id=submitted.incident.id)
        session.add(PatrolFinding(incident_id=submitted.incident.id, visit_id=visit.id))
        await session.flush()
        await record(session, incident=submitted.incident, actor=actor, kind="incident.patrol_finding",
                     payload={"patrol": {"visit_id": visit.id, "task_id": visit.task_id}, "photos": photo_ids})
    return submitted
