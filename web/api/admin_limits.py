"""/api/v1/admin/deadline-rules and /calendar: the Deadline-rules and Calendar tabs of /admin — limits in working
days or hours per category and region, the working-day calendar in force and its local overrides. Audited."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import Field

from command.admin import audit, limits_admin
from command.core.models import CalendarOverride, DeadlineRule
from command.deadlines.workdays import MAX_WORKDAYS
from web.deps import Admin, SessionDep
from web.request_models import Body
from web.request_types import Day, Id32, Integer, SafeLine, SafeText

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])

Code = Annotated[SafeLine, Field(min_length=1, max_length=64)]


class DeadlineRuleIn(Body):
    kind: Literal["sign_for", "respond", "feedback", "resolve"]
    category_code: Code | None = None
    region_code: Code | None = None
    channel: Literal["counter", "app", "hotline", "patrol", "terminal", "sensor", "petition"] | None = None
    priority: Integer | None = Field(None, ge=1, le=5)
    limit_workdays: Integer | None = Field(None, ge=1, le=MAX_WORKDAYS, description="working days (工作日)")
    limit_hours: float | None = Field(None, gt=0, le=366 * 24, allow_inf_nan=False)
    same_day: bool = False
    remind_before_hours: float = Field(0, ge=0, le=366 * 24, allow_inf_nan=False)
    note: SafeText | None = Field(None, max_length=200)


class OverrideIn(Body):
    day: Day
    region_code: Code | None = None
    workday: bool
    note: SafeLine | None = Field(None, max_length=200)


def rule_out(r: DeadlineRule) -> dict:
    out = {"id": r.id, **audit.snapshot(r, limits_admin.RULE_FIELDS)}
    out["limit_hours"] = r.limit_s / 3600 if r.limit_s else None
    return out


def override_out(o: CalendarOverride) -> dict:
    return {"id": o.id, **audit.snapshot(o, limits_admin.OVERRIDE_FIELDS)}


@router.get("/deadline-rules")
async def deadline_rules(principal: Admin, session: SessionDep) -> dict:
    return {"rules": [rule_out(r) for r in await limits_admin.deadline_rules(session, principal)]}


@router.post("/deadline-rules", status_code=201)
async def add_deadline_rule(body: DeadlineRuleIn, principal: Admin, session: SessionDep) -> dict:
    """A limit in working days (limit_workdays), hours (limit_hours) or the same day: exactly one."""
    values = body.model_dump(exclude={"limit_hours", "remind_before_hours"})
    values["limit_s"] = round(body.limit_hours * 3600) if body.limit_hours is not None else None
    values["remind_before_s"] = round(body.remind_before_hours * 3600)
    rule = await limits_admin.add_deadline_rule(session, principal, values)
    await audit.record(session, principal=principal, action="create", entity="deadline_rule", entity_id=rule.id,
                       after=rule_out(rule), region_code=rule.region_code)
    return rule_out(rule)


@router.delete("/deadline-rules/{rule_id}", status_code=204)
async def delete_deadline_rule(rule_id: Id32, principal: Admin, session: SessionDep) -> None:
    rule = await limits_admin.delete_deadline_rule(session, principal, rule_id)
    await audit.record(session, principal=principal, action="delete", entity="deadline_rule", entity_id=rule_id,
                       before=rule_out(rule), region_code=rule.region_code)


@router.get("/calendar")
async def calendar(principal: Admin, session: SessionDep, year: Annotated[int, Query(ge=2000, le=2099)],
                   month: Annotated[int, Query(ge=1, le=12)],
                   region: Annotated[SafeLine | None, Query(max_length=64)] = None) -> dict:
    """The working-day calendar in force (national schedule + overrides) for a month, and the overrides of the
    year."""
    out = await limits_admin.calendar_month(session, principal, year=year, month=month, region_code=region)
    out["overrides"] = [override_out(o) for o in await limits_admin.overrides(session, principal, year=year)]
    return out


@router.put("/calendar/overrides")
async def set_override(body: OverrideIn, principal: Admin, session: SessionDep) -> dict:
    """A local day off (workday false) or extra working day, for a region or (no region) the installation."""
    row, before = await limits_admin.set_override(session, principal, day=body.day, region_code=body.region_code,
                                                  workday=body.workday, note=body.note)
    await audit.record(session, principal=principal, action="create" if before is None else "edit",
                       entity="calendar_override", entity_id=row.id, before=before, after=override_out(row),
                       region_code=row.region_code)
    return override_out(row)


@router.delete("/calendar/overrides/{override_id}", status_code=204)
async def delete_override(override_id: Id32, principal: Admin, session: SessionDep) -> None:
    row = await limits_admin.delete_override(session, principal, override_id)
    await audit.record(session, principal=principal, action="delete", entity="calendar_override",
                       entity_id=override_id, before=override_out(row), region_code=row.region_code)
