"""Supervisors: extension decisions (延期), what is overdue or under supervision (督办), deadline rules."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, select

from command.core.errors import InvalidInput, NotFound
from command.core.models import Category, Deadline, DeadlineRule, ExtensionRequest, Incident
from command.core.scoping import incident_clause
from command.core.summaries import incident_summary, iso
from command.orders import extensions
from geo.models import Region
from web.deps import Operator, SessionDep, Supervisor
from web.request_models import Body, OptionalReason, ReasonIn
from web.request_types import Id32, Integer, SafeLine, SafeText

router = APIRouter(prefix="/api/v1/supervision", tags=["supervision"])


class DecisionIn(Body):
    reason: OptionalReason = None


@router.get("/extensions")
async def list_extensions(principal: Operator, session: SessionDep,
                          status: Literal["pending", "granted", "refused"] = "pending") -> dict:
    query = (select(ExtensionRequest, Incident).join(Incident, Incident.id == ExtensionRequest.incident_id)
             .where(ExtensionRequest.status == status).order_by(ExtensionRequest.id))
    if (clause := incident_clause(principal)) is not None:
        query = query.where(clause)
    rows = (await session.execute(query)).all()
    return {"extensions": [
        {"id": r.id, "order_id": r.order_id, "incident": incident_summary(i), "reason": r.reason,
         "requested_due_at": iso(r.requested_due_at), "status": r.status, "created_at": iso(r.created_at),
         "decided_at": iso(r.decided_at), "decision_reason": r.decision_reason}
        for r, i in rows]}


@router.post("/extensions/{request_id}/grant")
async def grant(request_id: Id32, body: DecisionIn, principal: Supervisor,
                session: SessionDep) -> dict:
    req = await extensions.decide_extension(session, request_id=request_id, principal=principal, grant=True,
                                            reason=body.reason)
    return {"id": req.id, "status": req.status, "order_id": req.order_id, "due_at": iso(req.requested_due_at)}


@router.post("/extensions/{request_id}/refuse")
async def refuse(request_id: Id32, body: ReasonIn, principal: Supervisor,
                 session: SessionDep) -> dict:
    req = await extensions.decide_extension(session, request_id=request_id, principal=principal, grant=False,
                                            reason=body.reason)
    return {"id": req.id, "status": req.status, "order_id": req.order_id}


@router.get("/overdue")
async def overdue(principal: Operator, session: SessionDep, limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> dict:
    """Deadlines that fired overdue and are still not met, most supervised first."""
    query = (select(Deadline, Incident).join(Incident, Incident.id == Deadline.incident_id)
             .where(Deadline.overdue_at.is_not(None), Deadline.met_at.is_(None))
             .order_by(Deadline.supervision_level.desc(), Deadline.due_at).limit(limit))
    if (clause := incident_clause(principal)) is not None:
        query = query.where(clause)
    rows = (await session.execute(query)).all()
    return {"overdue": [
        {"deadline_id": d.id, "kind": d.kind, "order_id": d.order_id, "due_at": iso(d.due_at),
         "overdue_at": iso(d.overdue_at), "supervision_level": d.supervision_level, "incident": incident_summary(i)}
        for d, i in rows]}


class RuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["sign_for", "respond", "feedback", "resolve"]
    category_code: SafeLine | None = Field(None, min_length=1, max_length=64)
    region_code: SafeLine | None = Field(None, min_length=1, max_length=64)
    channel: Literal["counter", "app", "hotline", "patrol", "terminal", "sensor", "petition"] | None = None
    priority: Integer | None = Field(None, ge=1, le=5)
    limit_s: Integer | None = Field(None, gt=0, le=366 * 86400)
    limit_workdays: Integer | None = Field(None, gt=0, le=366)
    same_day: bool = False
    remind_before_s: Integer = Field(0, ge=0, le=366 * 86400)
    note: SafeText | None = Field(None, max_length=200)


def _rule_out(r: DeadlineRule) -> dict:
    return {"id": r.id, "kind": r.kind, "category_code": r.category_code, "region_code": r.region_code,
            "channel": r.channel, "priority": r.priority, "limit_s": r.limit_s, "same_day": r.same_day,
            "limit_workdays": r.limit_workdays,
            "remind_before_s": r.remind_before_s, "note": r.note}


@router.get("/deadline-rules")
async def list_rules(_: Operator, session: SessionDep) -> dict:
    return {"rules": [_rule_out(r) for r in await session.scalars(select(DeadlineRule).order_by(DeadlineRule.id))]}


@router.post("/deadline-rules", status_code=201)
async def add_rule(body: RuleIn, _: Supervisor,
                   session: SessionDep) -> dict:
    if [body.same_day, body.limit_s is not None, body.limit_workdays is not None].count(True) != 1:
        raise InvalidInput("give exactly one of limit_s, limit_workdays or same_day")
    if body.category_code is not None and await session.get(Category, body.category_code) is None:
        raise InvalidInput(f"unknown category {body.category_code!r}")
    region = body.region_code
    if region is not None and await session.scalar(select(Region.id).where(Region.code == region)) is None:
        raise InvalidInput(f"unknown region {body.region_code!r}")
    rule = DeadlineRule(**body.model_dump())
    session.add(rule)
    await session.flush()
    return _rule_out(rule)


@router.delete("/deadline-rules/{rule_id}", status_code=204)
async def delete_rule(rule_id: Id32, _: Supervisor,
                      session: SessionDep) -> None:
    result = await session.execute(delete(DeadlineRule).where(DeadlineRule.id == rule_id))
    if not result.rowcount:
        raise NotFound(f"deadline rule {rule_id} not found")
