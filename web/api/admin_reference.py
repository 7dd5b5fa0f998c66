"""/api/v1/admin/departments, /categories, /routing-rules: the Departments and Categories-and-routing tabs of
/admin. Every write is audited (command.admin.audit)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter
from pydantic import Field
from sqlalchemy import select

from command.admin import audit, reference_admin
from command.core.models import Category, Department, RoutingRule
from web.deps import Admin, SessionDep
from web.request_models import Body
from web.request_types import Id32, Integer, SafeLine

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])

Code = Annotated[SafeLine, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]
Kind = Annotated[SafeLine, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_\-]+$")]


class DepartmentIn(Body):
    name: SafeLine = Field(min_length=1, max_length=200)
    kind: Kind
    region_code: Code
    region_codes: list[Code] = Field(default_factory=list, max_length=200)
    phone: SafeLine | None = Field(None, max_length=32, pattern=r"^[0-9+\-() ]*$")


class CategoryIn(Body):
    name_zh: SafeLine | None = Field(None, min_length=1, max_length=100)
    name_en: SafeLine | None = Field(None, min_length=1, max_length=100)
    group: Literal["service", "emergency"] | None = None
    default_priority: Integer | None = Field(None, ge=1, le=4)
    item_type: Literal["immediate", "promise", "joint", "answer"] | None = None
    active: bool | None = None


class RoutingIn(Body):
    category_code: Code
    region_code: Code | None = None
    department_kinds: list[Kind] = Field(default_factory=list, max_length=10)
    workers_needed: Integer = Field(1, ge=0, le=20, description="0: no grid worker is sent")
    radius_m: float = Field(3000.0, gt=0, le=100_000, allow_inf_nan=False)
    own_grid_first: bool = True
    ack_timeout_s: Integer = Field(60, ge=5, le=86400)
    max_attempts: Integer = Field(3, ge=1, le=20)
    priority: Integer | None = Field(None, ge=1, le=4, description="1 urgent … 4 low; null: the category's default")


def department_out(d: Department, liaisons: list | None = None) -> dict:
    out = {"id": d.id, **audit.snapshot(d, reference_admin.DEPARTMENT_FIELDS)}
    if liaisons is not None:
        out["liaisons"] = [{"id": u.id, "username": u.username, "display_name": u.display_name, "phone": u.phone,
                            "active": u.active} for u in liaisons]
    return out


def rule_out(r: RoutingRule) -> dict:
    return {"id": r.id, **audit.snapshot(r, reference_admin.RULE_FIELDS)}


def category_out(c: Category) -> dict:
    return audit.snapshot(c, reference_admin.CATEGORY_FIELDS)


@router.get("/departments")
async def departments(principal: Admin, session: SessionDep) -> dict:
    return {"departments": [department_out(d, ls) for d, ls in
                            await reference_admin.departments(session, principal)]}


@router.put("/departments/{code}")
async def save_department(code: Code, body: DepartmentIn, principal: Admin, session: SessionDep) -> dict:
    """Create or update the department with this code."""
    spec = reference_admin.DepartmentSpec(name=body.name, kind=body.kind, region_code=body.region_code,
                                          region_codes=list(body.region_codes), phone=body.phone)
    dept, before = await reference_admin.save_department(session, principal, code, spec)
    await audit.record(session, principal=principal, action="create" if before is None else "edit",
                       entity="department", entity_id=code, before=before,
                       after=audit.snapshot(dept, reference_admin.DEPARTMENT_FIELDS), region_code=dept.region_code)
    return department_out(dept)


@router.get("/categories")
async def categories(_: Admin, session: SessionDep) -> dict:
    rows = (await session.scalars(select(Category).order_by(Category.group, Category.code))).all()
    return {"categories": [category_out(c) for c in rows]}


@router.put("/categories/{code}")
async def save_category(code: Code, body: CategoryIn, principal: Admin, session: SessionDep) -> dict:
    """Create (name_zh and name_en needed) or update a category; installation-wide admins only."""
    values = body.model_dump(exclude_none=True)
    category, before = await reference_admin.save_category(session, principal, code, values)
    await audit.record(session, principal=principal, action="create" if before is None else "edit",
                       entity="category", entity_id=code, before=before, after=category_out(category))
    return category_out(category)


@router.get("/routing-rules")
async def routing_rules(principal: Admin, session: SessionDep) -> dict:
    return {"rules": [rule_out(r) for r in await reference_admin.routing_rules(session, principal)]}


@router.put("/routing-rules")
async def save_routing_rule(body: RoutingIn, principal: Admin, session: SessionDep) -> dict:
    """Create or replace the rule of (category, region); no region: the category's default everywhere."""
    values = body.model_dump(exclude={"category_code", "region_code"})
    values["department_kinds"] = list(body.department_kinds)
    rule, before = await reference_admin.save_routing_rule(session, principal, category_code=body.category_code,
                                                           region_code=body.region_code, values=values)
    await audit.record(session, principal=principal, action="create" if before is None else "edit",
                       entity="routing_rule", entity_id=rule.id, before=before, after=rule_out(rule),
                       region_code=rule.region_code)
    return rule_out(rule)


@router.delete("/routing-rules/{rule_id}", status_code=204)
async def delete_routing_rule(rule_id: Id32, principal: Admin, session: SessionDep) -> None:
    before = await reference_admin.delete_routing_rule(session, principal, rule_id)
    await audit.record(session, principal=principal, action="delete", entity="routing_rule", entity_id=rule_id,
                       before=before, region_code=before.get("region_code"))
