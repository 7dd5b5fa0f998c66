"""The worker app's own actions beside accept/decline/resolve (web.api.orders): arrival on the scene and
progress notes with photos on an order, and a patrol finding (巡查发现上报) with photos through the one intake;
and the liaison console's department card.

Every action takes an Idempotency-Key (made on the phone when the action is created), so a retried one is
applied once."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Header, Response
from pydantic import BaseModel, ConfigDict, Field
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from command.attachments import attach_photos
from command.errors import NotFound
from command.events import Actor
from command.field_notes import MAX_TEXT, add_worker_note
from command.intake import MAX_DESCRIPTION, AlertIn, submit_alert
from command.models import Department
from command.security import Principal
from command.settings import Settings
from command.summaries import incident_summary, order_summary
from command.uploads import MAX_PHOTOS, check_photos
from geo.coords import Crs
from web.deps import get_redis, get_session, get_settings, require_roles
from web.idempotency import IDEMPOTENT

router = APIRouter(prefix="/api/v1", tags=["worker app"])
_worker = require_roles("worker")


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str | None = Field(None, max_length=MAX_TEXT)
    photos: list[str] = Field(default_factory=list, max_length=MAX_PHOTOS)


class FindingIn(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    category: str = Field(min_length=1, max_length=64)
    description: str = Field(min_length=1, max_length=MAX_DESCRIPTION)
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    crs: Crs = Crs.wgs84
    priority: int | None = Field(None, ge=1, le=4)
    photos: list[str] = Field(default_factory=list, max_length=MAX_PHOTOS)


def _event_out(event: object) -> dict:
    return {"event_id": event.id, "kind": event.kind, "order_id": event.order_id}  # type: ignore[attr-defined]


@router.post("/orders/{order_id}/arrive", status_code=201, dependencies=[IDEMPOTENT])
async def arrive(order_id: int, body: NoteIn, principal: Principal = Depends(_worker),
                 session: AsyncSession = Depends(get_session)) -> dict:
    """到场: once per order, with an optional note and photos."""
    return _event_out(await add_worker_note(session, order_id=order_id, principal=principal, text=body.text,
                                            photos=body.photos, arrived=True))


@router.post("/orders/{order_id}/notes", status_code=201, dependencies=[IDEMPOTENT])
async def note(order_id: int, body: NoteIn, principal: Principal = Depends(_worker),
               session: AsyncSession = Depends(get_session)) -> dict:
    return _event_out(await add_worker_note(session, order_id=order_id, principal=principal, text=body.text,
                                            photos=body.photos))


@router.post("/workers/me/findings", status_code=201)
async def finding(body: FindingIn, response: Response,
                  idempotency_key: str | None = Header(None, alias="Idempotency-Key", max_length=128),
                  principal: Principal = Depends(_worker), session: AsyncSession = Depends(get_session),
                  redis: Redis = Depends(get_redis), settings: Settings = Depends(get_settings)) -> dict:
    """巡查发现上报: a new incident on the patrol channel with its photos; the same Idempotency-Key scope as
    POST /api/v1/alerts (the intake's own), so a retry answers 200 with the same incident."""
    photos = await check_photos(session, body.photos)  # before intake: a bad id changes nothing
    actor = Actor(principal.username, principal.user_id)
    result = await submit_alert(
        session, redis, settings=settings, actor=actor, idempotency_key=idempotency_key,
        key_scope=f"u{principal.user_id}",
        alert=AlertIn(category=body.category, description=body.description, lon=body.lon, lat=body.lat,
                      channel="patrol", crs=body.crs.value, priority=body.priority))
    if result.created:
        await attach_photos(session, incident=result.incident, photos=photos, actor=actor)
    else:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    return {**incident_summary(result.incident), "replayed": not result.created,
            "orders": [order_summary(o) for o in result.orders]}


@router.get("/departments/mine")
async def my_department(principal: Principal = Depends(require_roles("liaison")),
                        session: AsyncSession = Depends(get_session)) -> dict:
    """The liaison's own department (name, kind, jurisdiction) for the console's title."""
    dep = await session.scalar(select(Department).where(Department.code == principal.department_code))
    if dep is None:
        raise NotFound("this liaison account has no department")
    return {"code": dep.code, "name": dep.name, "kind": dep.kind, "region_code": dep.region_code}
