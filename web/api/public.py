"""The resident's side (no login, rate-limited per client address, nothing private in any answer):
a photo upload, and filing a request — through the same intake as every channel
(command.intake, channel "app") — answered with the tracking link (command.tracking). Tracking and rating
are web.api.track; the category list is GET /api/v1/categories (web.api.screen_board)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Header, Request, Response, UploadFile
from pydantic import BaseModel, ConfigDict, Field
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from command.attachments import attach_photos
from command.errors import InvalidInput
from command.events import Actor
from command.intake import MAX_DESCRIPTION, AlertIn, submit_alert
from command.models import Category
from command.settings import Settings
from command.tracking import tracking_token
from command.uploads import check_photos, save_upload
from geo.coords import Crs
from web.deps import get_redis, get_session, get_settings
from web.ratelimit import rate_limited

router = APIRouter(prefix="/api/v1/public", tags=["resident"])
RESIDENT = Actor(name="resident")
MAX_PHOTOS = 3


def _per_minute(request: Request) -> int:
    return request.app.state.settings.resident_rate_per_min


class RequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    category: str = Field(min_length=1, max_length=64)
    description: str = Field(min_length=1, max_length=MAX_DESCRIPTION)
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    crs: Crs = Field(Crs.wgs84, description="wgs84 for a phone's GPS; the map's own for a pin")
    phone: str | None = Field(None, min_length=3, max_length=32)
    photos: list[str] = Field(default_factory=list, max_length=MAX_PHOTOS, description="upload ids")


@router.post("/uploads", status_code=201, dependencies=[Depends(rate_limited("public-upload", _per_minute))])
async def upload_photo(file: UploadFile, session: AsyncSession = Depends(get_session),
                       settings: Settings = Depends(get_settings)) -> dict:
    """One photo (JPEG/PNG/WebP by its bytes, at most max_upload_bytes). The id is all that comes back:
    a resident cannot read any upload through this API."""
    data = await file.read(settings.max_upload_bytes + 1)
    row = await save_upload(session, data=data, upload_dir=settings.upload_dir, max_bytes=settings.max_upload_bytes,
                            uploaded_by=None)
    return {"id": str(row.id), "size": row.size, "content_type": row.content_type}


@router.post("/requests", status_code=201, dependencies=[Depends(rate_limited("public-request", _per_minute))])
async def file_request(
    body: RequestIn,
    response: Response,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", max_length=128),
    session: AsyncSession = Depends(get_session),
    redis: Redis = Depends(get_redis),
    settings: Settings = Depends(get_settings),
) -> dict:
    """201 with the tracking link; a retry with the same Idempotency-Key answers 200 with the same link."""
    category = await session.get(Category, body.category)
    if category is None or not category.active or category.group != "service":
        raise InvalidInput(f"unknown category {body.category!r}; choose a service category of GET /api/v1/categories",
                           details=[{"field": "category"}])
    photos = await check_photos(session, body.photos)  # before intake: a bad id changes nothing
    result = await submit_alert(
        session, redis, settings=settings, actor=RESIDENT, idempotency_key=idempotency_key, key_scope="resident",
        alert=AlertIn(category=body.category, description=body.description, lon=body.lon, lat=body.lat,
                      channel="app", crs=body.crs.value, reporter_phone=body.phone))
    incident = result.incident
    if result.created:
        await attach_photos(session, incident=incident, photos=photos, actor=RESIDENT)
    else:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    token = tracking_token(settings.secret_key, incident.public_id)
    return {"public_id": str(incident.public_id), "token": token, "status": incident.status,
            "tracking_url": f"/r/t/{incident.public_id}?k={token}", "replayed": not result.created}
