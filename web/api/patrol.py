"""Patrol tasks (巡查): /api/v1/patrol/… — operators set weekly visits per grid; grid workers see their
visits, mark them done and report findings, which enter as incidents (channel patrol)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Header, Query
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from command.core.errors import Forbidden, InvalidInput
from command.core.models import PatrolTask
from command.core.scoping import array_contains, unrestricted
from command.core.security import Principal
from command.core.summaries import incident_summary, iso
from command.deadlines import patrol
from command.intake.patrol_findings import report_finding
from geo.models import Region
from web.deps import Operator, RedisDep, SessionDep, SettingsDep, Worker
from web.openapi_errors import errors, replayed
from web.request_models import Body, FindingIn
from web.request_types import Day, Id32, IdempotencyKey, Integer, SafeLine, SafeText, VisibleText

router = APIRouter(prefix="/api/v1/patrol", tags=["patrol"])


class TaskIn(Body):
    grid_code: SafeLine = Field(min_length=1, max_length=64)
    title: VisibleText = Field(min_length=1, max_length=200)
    visit_weekday: Integer = Field(ge=0, le=6)
    callback_weekday: Integer | None = Field(None, ge=0, le=6)


class PlanIn(Body):
    start: Day
    days: Integer = Field(7, ge=1, le=62)


class DoneIn(Body):
    notes: SafeText | None = Field(None, max_length=4000)




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
async def create_task(body: TaskIn, principal: Operator,
                      session: SessionDep) -> dict:
    await _grid_in_scope(session, principal, body.grid_code)
    task = await patrol.create_task(session, grid_code=body.grid_code, title=body.title,
                                    visit_weekday=body.visit_weekday, callback_weekday=body.callback_weekday,
                                    created_by=principal.user_id)
    return _task_out(task)


@router.get("/tasks")
async def list_tasks(principal: Operator, session: SessionDep) -> dict:
    query = select(PatrolTask).order_by(PatrolTask.id)
    if not unrestricted(principal):
        query = query.join(Region, Region.code == PatrolTask.grid_code).where(
            array_contains(Region.path, principal.region_code))
    return {"tasks": [_task_out(t) for t in await session.scalars(query)]}


@router.post("/plan")
async def plan(body: PlanIn, _: Operator, session: SessionDep) -> dict:
    created = await patrol.plan_visits(session, start=body.start, end=body.start + timedelta(days=body.days))
    return {"created": created}


@router.get("/visits")
async def my_visits(start: Annotated[Day, Query(alias="from")], principal: Worker,
                    session: SessionDep, days: Annotated[int, Query(ge=1, le=62)] = 7) -> dict:
    if principal.worker_id is None:
        raise InvalidInput("this account is not linked to a grid worker")
    visits = await patrol.visits_for_worker(session, worker_id=principal.worker_id, start=start,
                                            end=start + timedelta(days=days))
    return {"visits": [{"id": v.id, "task_id": v.task_id, "kind": v.kind, "due_date": v.due_date.isoformat(),
                        "status": v.status, "done_at": iso(v.done_at)} for v in visits]}


@router.post("/visits/{visit_id}/done")
async def visit_done(visit_id: Id32, body: DoneIn, principal: Worker,
                     session: SessionDep) -> dict:
    if principal.worker_id is None:
        raise InvalidInput("this account is not linked to a grid worker")
    v = await patrol.complete_visit(session, visit_id=visit_id, worker_id=principal.worker_id, notes=body.notes)
    return {"id": v.id, "status": v.status, "done_at": iso(v.done_at)}


@router.post("/visits/{visit_id}/findings", status_code=201, responses=replayed() | errors(409))
async def finding(visit_id: Id32, body: FindingIn, principal: Worker, session: SessionDep,
                  redis: RedisDep, settings: SettingsDep,
                  idempotency_key: Annotated[IdempotencyKey | None, Header(alias="Idempotency-Key")] = None) -> dict:
    submitted = await report_finding(
        session, redis, visit_id=visit_id, principal=principal, category=body.category, description=body.description,
        lon=body.lon, lat=body.lat, crs=body.crs, priority=body.priority, photos=body.photos, settings=settings,
        idempotency_key=idempotency_key)
    return {"incident": incident_summary(submitted.incident), "created": submitted.created}
