"""Patrol tasks (巡查): a weekly visit day and an optional callback day per grid, planned as dated
visits assigned to the grid's workers, who mark them done and report what they find as incidents
(command.intake.patrol_findings)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from command.core.clock import utcnow
from command.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from command.core.models import PatrolTask, PatrolVisit, Worker
from command.core.scoping import array_contains
from geo.models import Region

PATROL_LEVELS = ("grid", "microgrid", "community")


async def create_task(
    session: AsyncSession, *, grid_code: str, title: str, visit_weekday: int, callback_weekday: int | None,
    created_by: int | None,
) -> PatrolTask:
    region = await session.scalar(select(Region).where(Region.code == grid_code))
    if region is None:
        raise InvalidInput(f"unknown grid {grid_code!r}")
    if region.level not in PATROL_LEVELS:
        raise InvalidInput(f"{grid_code!r} is a {region.level}; patrol tasks belong to a grid or micro-grid")
    for day in (visit_weekday, callback_weekday):
        if day is not None and not 0 <= day <= 6:
            raise InvalidInput("weekdays are 0 (Monday) to 6 (Sunday)")
    if not title.strip():
        raise InvalidInput("a patrol task needs a title")
    task = PatrolTask(grid_code=grid_code, title=title.strip(), visit_weekday=visit_weekday,
                      callback_weekday=callback_weekday, created_by=created_by)
    session.add(task)
    await session.flush()
    return task


async def grid_workers(session: AsyncSession, grid_code: str) -> list[int]:
    return list(await session.scalars(
        select(Worker.id).where(array_contains(Worker.grid_codes, grid_code), Worker.on_duty.is_(True))
        .order_by(Worker.id)
    ))


async def plan_visits(session: AsyncSession, *, start: date, end: date) -> int:
    """Create the visits of every active task for the days in [start, end); existing ones are kept."""
    created = 0
    tasks = list(await session.scalars(select(PatrolTask).where(PatrolTask.active.is_(True))))
    workers: dict[str, list[int]] = {}
    for task in tasks:
        if task.grid_code not in workers:
            workers[task.grid_code] = await grid_workers(session, task.grid_code)
        day = start
        while day < end:
            for kind, weekday in (("visit", task.visit_weekday), ("callback", task.callback_weekday)):
                if weekday is not None and day.weekday() == weekday:
                    # An INSERT's result is a CursorResult (rowcount); Session.execute is typed as plain Result.
                    res = cast(CursorResult[Any], await session.execute(
                        insert(PatrolVisit)
                        .values(task_id=task.id, kind=kind, due_date=day, worker_ids=workers[task.grid_code],
                                status="planned")
                        .on_conflict_do_nothing(index_elements=["task_id", "kind", "due_date"])
                    ))
                    created += res.rowcount or 0
            day += timedelta(days=1)
    return created


async def visits_for_worker(session: AsyncSession, *, worker_id: int, start: date, end: date) -> list[PatrolVisit]:
    return list(await session.scalars(
        select(PatrolVisit)
        .where(array_contains(PatrolVisit.worker_ids, worker_id), PatrolVisit.due_date >= start,
               PatrolVisit.due_date < end)
        .order_by(PatrolVisit.due_date, PatrolVisit.id)
    ))


async def visit_for_worker(session: AsyncSession, *, visit_id: int, worker_id: int | None,
                           lock: bool = False) -> PatrolVisit:
    query = select(PatrolVisit).where(PatrolVisit.id == visit_id)
    visit = await session.scalar(query.with_for_update() if lock else query)
    if visit is None:
        raise NotFound(f"patrol visit {visit_id} not found")
    if worker_id is not None and worker_id not in (visit.worker_ids or []):
        raise Forbidden("this visit is not assigned to you")
    return visit


async def complete_visit(session: AsyncSession, *, visit_id: int, worker_id: int, notes: str | None,
                         at: datetime | None = None) -> PatrolVisit:
    visit = await visit_for_worker(session, visit_id=visit_id, worker_id=worker_id, lock=True)
    if visit.status == "done":
        raise Conflict("this visit is already done")
    visit.status, visit.done_by, visit.done_at, visit.notes = "done", worker_id, at or utcnow(), notes
    await session.flush()
    return visit
