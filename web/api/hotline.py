"""The 12345 platform link: POST /api/v1/hotline/12345/orders receives a signed work order
(X-Timestamp + X-Signature = HMAC-SHA256(secret, "{timestamp}." + body), replay window) and files it
through the one intake; admins keep the category mapping at /api/v1/hotline/12345/categories."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from command import hotline12345
from command.errors import InvalidInput
from command.hotline_sign import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from command.security import Principal
from command.settings import Settings
from command.tracking import tracking_token
from web.deps import get_redis, get_session, get_settings, require_roles

router = APIRouter(prefix="/api/v1/hotline/12345", tags=["12345 platform"])


class Reporter(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, max_length=100)
    phone: str | None = Field(None, max_length=32)


class WorkOrderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, max_length=128)
    category: str = Field(min_length=1, max_length=64)
    description: str = Field(min_length=1, max_length=2000)
    lon: float
    lat: float
    crs: Literal["wgs84", "gcj02", "bd09"] = "wgs84"
    deadline: datetime
    priority: int | None = Field(None, ge=1, le=4)
    reporter: Reporter | None = None


class MappingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    their_code: str = Field(min_length=1, max_length=64)
    category_code: str = Field(min_length=1, max_length=64)


@router.post("/orders", status_code=201)
async def receive(request: Request, session: AsyncSession = Depends(get_session),
                  redis: Redis = Depends(get_redis), settings: Settings = Depends(get_settings)) -> JSONResponse:
    body = await request.body()
    # The signature covers the raw bytes: check it before parsing anything.
    verify(secret=settings.hotline_secret, window_s=settings.hotline_replay_window_s,
           timestamp=request.headers.get(TIMESTAMP_HEADER), signature=request.headers.get(SIGNATURE_HEADER),
           body=body, now=time.time())
    try:
        wo = WorkOrderIn.model_validate_json(body)
    except ValidationError as exc:
        raise InvalidInput("invalid work order", details=[
            {"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors(include_url=False)]) from exc
    submitted = await hotline12345.receive(session, redis, settings=settings, order=hotline12345.WorkOrder(
        id=wo.id, category=wo.category, description=wo.description, lon=wo.lon, lat=wo.lat, crs=wo.crs,
        deadline=wo.deadline, priority=wo.priority, reporter_name=wo.reporter.name if wo.reporter else None,
        reporter_phone=wo.reporter.phone if wo.reporter else None))
    incident = submitted.incident
    content = {"work_order_id": wo.id, "incident_id": incident.id, "public_id": str(incident.public_id),
               "status": incident.status, "created": submitted.created,
               "tracking_token": tracking_token(settings.secret_key, incident.public_id)}
    return JSONResponse(content, status_code=201 if submitted.created else 200)


@router.get("/categories")
async def list_mappings(_: Principal = Depends(require_roles("supervisor", "operator")),
                        session: AsyncSession = Depends(get_session)) -> dict:
    return {"categories": await hotline12345.mappings(session)}


@router.put("/categories")
async def put_mapping(body: MappingIn, _: Principal = Depends(require_roles()),
                      session: AsyncSession = Depends(get_session)) -> dict:
    await hotline12345.set_mapping(session, their_code=body.their_code, category_code=body.category_code)
    return {"their_code": body.their_code, "category_code": body.category_code}
