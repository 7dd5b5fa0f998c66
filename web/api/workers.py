"""Grid workers: position reports (one or a batch), duty status, their orders; the live list for screens."""

from __future__ import annotations

import time
from typing import Annotated

from annotated_types import Ge, Le
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from command.assign.workers import MAX_BATCH, PositionIn, list_live_workers, my_orders, report_position, set_duty
from geo.coords import Crs
from web.deps import Operator, RedisDep, SessionDep, SettingsDep, Worker
from web.request_types import Instant, Lat, Lon, SafeLine

router = APIRouter(prefix="/api/v1/workers", tags=["workers"])


class Position(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    lon: Lon
    lat: Annotated[Lat, Ge(-85.05112878), Le(85.05112878)]  # Redis GEO's range
    crs: Crs = Crs.wgs84
    ts: Instant | None = None


class Batch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    positions: list[Position] = Field(min_length=1, max_length=MAX_BATCH)


class StatusBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: SafeLine = Field(max_length=16, description="available | busy | off_duty")


@router.post("/me/position")
async def post_position(body: Position | Batch, request: Request, principal: Worker,
                        redis: RedisDep) -> dict:
    """No database transaction: a report goes straight to Redis (the worker is registered on first report)."""
    items = body.positions if isinstance(body, Batch) else [body]
    stored = await report_position(
        request.app.state.sessionmaker, redis, principal=principal, now=time.time(),
        positions=[PositionIn(lon=p.lon, lat=p.lat, crs=p.crs.value, ts=p.ts) for p in items])
    return {"stored": stored, "count": len(items)}


@router.post("/me/status")
async def post_status(body: StatusBody, principal: Worker,
                      session: SessionDep, redis: RedisDep) -> dict:
    return {"status": await set_duty(session, redis, principal=principal, duty=body.status)}


@router.get("/me/orders")
async def get_my_orders(principal: Worker, session: SessionDep, open: bool = True) -> dict:
    return {"items": await my_orders(session, principal=principal, open_only=open)}


@router.get("")
async def get_workers(principal: Operator, session: SessionDep, redis: RedisDep,
                      settings: SettingsDep,
                      region: Annotated[SafeLine | None, Query(min_length=1, max_length=64)] = None) -> dict:
    """Workers serving the caller's region (names masked) with position, availability and load."""
    return {"items": await list_live_workers(session, redis, principal=principal, region=region,
                                             settings=settings)}
