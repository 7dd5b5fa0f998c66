"""Patrol tasks (巡查): /api/v1/patrol/… — operators set weekly visits per grid; grid workers see their
visits, mark them done and report findings, which enter as incidents (channel patrol)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

from fastapi import APIRouter, Depends, Header, Query
from pydantic import BaseModel, ConfigDict, Field
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from command import patrol
from command.errors import Forbidden, InvalidInput
from command.loop_models import PatrolTask
from command.patrol_findings import report_finding
from command.scoping import array_contains, unrestricted
from command.security import Principal
from command.settings import Settings
from command.summaries import incident_summary, iso
from geo.models import Region
from web.deps import get_redis, get_session, get_settings, require_roles

router = APIRouter(prefix="/api/v1/patrol", tags=["patrol"])
Operator = require_roles("operator", "supervisor")
WorkerRole = require_roles("worker")


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TaskIn(_Body):
    grid_code: str = Field(min_length=1, max_length=64)
    title: str = Field(min_length=1, max_length=200)
    visit_weekday: int = Field(ge=0, le=6)
    callback_weekday: int | None = Field(None, ge=0, le=6)


class PlanIn(_Body):
    start: date
    days: int = Field(7, ge=1, le=62)


class DoneIn(_Body):
    notes: str | None = Field(None, max_length=4000)


class FindingIn(_Body):
    category: str = Field(min_length=1, max_length=64)
    description: str = Field(min_length=1, max_length=2000)
    lon: float
    lat: float
    crs: Literal["wgs84", "gcj02", "bd09"] = "wgs84"
    priority: int | None = Field(None, ge=1, le=4)
    photos: list[str] = Field(default_factory=list, max_length=12)


def _task_out(t: PatrolTask) -> dict:
    return {"id": t.id, "grid_code": t.grid_code, "title": t.title, "visit_weekday": t.visit_weekday,
            "callback_weekday": t.callback_weekday, "active": t.active}


async def _grid_in_scope(session: AsyncSession, principal: Principal, grid_code: str) -> None:
    if unrestricted(principal):
        return
    path = await session.scalar(select(Region.path).where(Region.code == grid_code))
    if path is not None and principal.region_code not in path:
        raise Forbidden(f"grid {grid_code} is outside your region")


@router.post("/tasks", status_code=201)
async def create_task(body: TaskIn, principal: Principal = Depends(Operator),
                      session: AsyncSession = Depends(get_session)) -> dict:
    await _grid_in_scope(session, principal, body.grid_code)
    task = await patrol.create_task(session, grid_code=body.grid_code, title=body.title,
                                    visit_weekday=body.visit_weekday, callback_weekday=body.callback_weekday,
                                    created_by=principal.user_id)
    return _task_out(task)


@router.get("/tasks")
async def list_tasks(principal: Principal = Depends(Operator), session: AsyncSession = Depends(get_session)) -> dict:
    query = select(PatrolTask).order_by(PatrolTask.id)
    if not unrestricted(principal):
        query = query.join(Region, Region.code == PatrolTask.grid_code).where(
            array_contains(Region.path, principal.region_code))
    return {"tasks": [_task_out(t) for t in await session.scalars(query)]}


@router.post("/plan")
async def plan(body: PlanIn, _: Principal = Depends(Operator), session: AsyncSession = Depends(get_session)) -> dict:
    created = await patrol.plan_visits(session, start=body.start, end=body.start + timedelta(days=body.days))
    return {"created": created}


@router.get("/visits")
async def my_visits(
    start: date = Query(..., alias="from"),
    days: int = Query(7, ge=1, le=62),
    principal: Principal = Depends(WorkerRole),
    session: AsyncSession = Depends(get_session),
) -> dict:
    if principal.worker_id is None:
        raise InvalidInput("this account is not linked to a grid worker")
    visits = await patrol.visits_for_worker(session, worker_id=principal.worker_id, start=start,
                                            end=start + timedelta(days=days))
    return {"visits": [{"id": v.id, "task_id": v.task_id, "kind": v.kind, "due_date": v.due_date.isoformat(),
                        "status": v.status, "done_at": iso(v.done_at)} for v in visits]}


@router.post("/visits/{visit_id}/done")
async def visit_done(visit_id: int, body: DoneIn, principal: Principal = Depends(WorkerRole),
                     session: AsyncSession = Depends(get_session)) -> dict:
    if principal.worker_id is None:
        raise InvalidInput("this account is not linked to a grid worker")
    v = await patrol.complete_visit(session, visit_id=visit_id, worker_id=principal.worker_id, notes=body.notes)
    return {"id": v.id, "status": v.status, "done_at": iso(v.done_at)}


@router.post("/visits/{visit_id}/findings", status_code=201)
async def finding(visit_id: int, body: FindingIn, principal: Principal = Depends(WorkerRole),
                  idempotency_key: str | None = Header(None, alias="Idempotency-Key"),
                  session: AsyncSession = Depends(get_session), redis: Redis = Depends(get_redis),
                  settings: Settings = Depends(get_settings)) -> dict:
    submitted = await report_finding(
        session, redis, visit_id=visit_id, principal=principal, category=body.category, description=body.description,
        lon=body.lon, lat=body.lat, crs=body.crs, priority=body.priority, photos=body.photos, settings=settings,
        idempotency_key=idempotency_key)
    return {"incident": incident_summary(submitted.incident), "created": submitted.created}
