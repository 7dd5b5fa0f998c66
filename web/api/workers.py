"""Grid workers: position reports (one or a batch), duty status, their orders; the live list for screens."""

from __future__ import annotations

import time
from datetime import datetime

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from command.security import Principal
from command.settings import Settings
from command.workers import MAX_BATCH, PositionIn, list_live_workers, my_orders, report_position, set_duty
from geo.coords import Crs
from web.deps import get_redis, get_session, get_settings, require_roles

router = APIRouter(prefix="/api/v1/workers", tags=["workers"])
_worker = require_roles("worker")


class Position(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-85.05112878, le=85.05112878)
    crs: Crs = Crs.wgs84
    ts: datetime | None = None


class Batch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    positions: list[Position] = Field(min_length=1, max_length=MAX_BATCH)


class StatusBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: str = Field(description="available | busy | off_duty")


@router.post("/me/position")
async def post_position(body: Position | Batch, request: Request, principal: Principal = Depends(_worker),
                        redis: Redis = Depends(get_redis)) -> dict:
    """No database transaction: a report goes straight to Redis (the worker is registered on first report)."""
    items = body.positions if isinstance(body, Batch) else [body]
    stored = await report_position(
        request.app.state.sessionmaker, redis, principal=principal, now=time.time(),
        positions=[PositionIn(lon=p.lon, lat=p.lat, crs=p.crs.value, ts=p.ts) for p in items])
    return {"stored": stored, "count": len(items)}


@router.post("/me/status")
async def post_status(body: StatusBody, principal: Principal = Depends(_worker),
                      session: AsyncSession = Depends(get_session), redis: Redis = Depends(get_redis)) -> dict:
    return {"status": await set_duty(session, redis, principal=principal, duty=body.status)}


@router.get("/me/orders")
async def get_my_orders(open: bool = True, principal: Principal = Depends(_worker),
                        session: AsyncSession = Depends(get_session)) -> dict:
    return {"items": await my_orders(session, principal=principal, open_only=open)}


@router.get("")
async def get_workers(region: str | None = None,
                      principal: Principal = Depends(require_roles("operator", "supervisor")),
                      session: AsyncSession = Depends(get_session), redis: Redis = Depends(get_redis),
                      settings: Settings = Depends(get_settings)) -> dict:
    """Workers serving the caller's region (names masked) with position, availability and load."""
    return {"items": await list_live_workers(session, redis, principal=principal, region=region,
                                             settings=settings)}
