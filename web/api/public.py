"""The resident's side (no login, rate-limited per client address, nothing private in any answer):
a photo upload, and filing a request — through the same intake as every channel
(command.intake.intake, channel "app") — answered with the tracking link (command.orders.tracking). Tracking and rating
are web.api.track; the category list is GET /api/v1/categories (web.api.screen_board)."""

from __future__ import annotations

import hashlib
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Header, Request, Response, UploadFile
from pydantic import Field

from command.core.errors import InvalidInput
from command.core.events import Actor
from command.core.models import Category
from command.intake.attachments import attach_photos
from command.intake.intake import AlertIn, stored_key, submit_alert
from command.intake.service_items import item_of_request
from command.orders.tracking import tracking_page, tracking_token
from command.orders.uploads import check_photos, save_upload
from web.deps import RedisDep, SessionDep, SettingsDep
from web.openapi_errors import replayed
from web.ratelimit import rate_limited
from web.request_models import WhatAndWhere, service_item_field
from web.request_types import IdempotencyKey, SafeLine, UploadId

router = APIRouter(prefix="/api/v1/public", tags=["resident"])
RESIDENT = Actor(name="resident")
MAX_PHOTOS = 3


def _per_minute(request: Request) -> int:
    return request.app.state.settings.resident_rate_per_min


class RequestIn(WhatAndWhere):
    phone: SafeLine | None = Field(None, min_length=3, max_length=32)
    photos: list[UploadId] = Field(default_factory=list, max_length=MAX_PHOTOS,
                                   description="ids from POST /api/v1/public/uploads, not yet attached")
    service_item: SafeLine | None = service_item_field()


def resident_key_scope(body: RequestIn) -> str:
    """Residents have no account, so an Idempotency-Key is scoped by the request it came with: a retry (the same
    key and the same body) finds its first answer, while another resident's key, sent with anything else, finds
    nothing — never their tracking token."""
    canonical = orjson.dumps(body.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)
    return "r" + hashlib.sha256(canonical).hexdigest()[:40]


@router.post("/uploads", status_code=201, dependencies=[Depends(rate_limited("public-upload", _per_minute))])
async def upload_photo(file: UploadFile, session: SessionDep,
                       settings: SettingsDep) -> dict:
    """One photo (JPEG/PNG/WebP by its bytes, at most max_upload_bytes). The id is all that comes back:
    a resident cannot read any upload through this API."""
    data = await file.read(settings.max_upload_bytes + 1)
    row = await save_upload(session, data=data, upload_dir=settings.upload_dir, max_bytes=settings.max_upload_bytes,
                            uploaded_by=None)
    return {"id": str(row.id), "size": row.size, "content_type": row.content_type}


@router.post("/requests", status_code=201, dependencies=[Depends(rate_limited("public-request", _per_minute))],
             responses=replayed())
async def file_request(body: RequestIn, response: Response, session: SessionDep, redis: RedisDep,
                       settings: SettingsDep,
                       idempotency_key: Annotated[IdempotencyKey | None, Header(alias="Idempotency-Key")] = None,
                       ) -> dict:
    """201 with the tracking link; a retry with the same Idempotency-Key answers 200 with the same link."""
    category = await session.get(Category, body.category)
    if category is None or not category.active or category.group != "service":
        raise InvalidInput(f"unknown category {body.category!r}; choose a service category of GET /api/v1/categories",
                           details=[{"field": "category"}])
    item = await item_of_request(session, body.service_item, category=body.category)
    scope = resident_key_scope(body)
    photos = await check_photos(session, body.photos, uploaded_by=None,  # before intake: a bad id changes nothing
                                replay_key=stored_key(scope, idempotency_key))
    result = await submit_alert(
        session, redis, settings=settings, actor=RESIDENT, idempotency_key=idempotency_key, key_scope=scope,
        alert=AlertIn(category=body.category, description=body.description, lon=body.lon, lat=body.lat,
                      channel="app", crs=body.crs.value, reporter_phone=body.phone,
                      service_item_code=item.code if item else None))
    incident = result.incident
    if result.created:
        await attach_photos(session, incident=incident, photos=photos, actor=RESIDENT, uploaded_by=None)
    else:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    token = tracking_token(settings.secret_key, incident.public_id)
    return {"public_id": str(incident.public_id), "token": token, "status": incident.status,
            "tracking_url": tracking_page(incident.public_id, token), "replayed": not result.created}
