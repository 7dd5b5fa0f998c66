"""The service catalogue (服务事项清单; command.admin.catalogue, docs/catalogue.md): residents browse and search it
(/api/v1/public/catalogue, no login, rate-limited); operators read an item's materials and export the whole
catalogue as XLSX; admins list every item (withdrawn ones too) and edit them on /admin, each change audited. The
catalogue is district-wide: a region admin reads it and is refused (403) an edit."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from command.admin import audit, catalogue
from command.core.models import ServiceItem
from web.api.stats import XLSX
from web.deps import Admin, Operator, SessionDep
from web.ratelimit import rate_limited
from web.request_models import Body
from web.request_types import Integer, SafeLine, VisibleLine, VisibleText

router = APIRouter(tags=["service catalogue"])
Code = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,32}$", description="the item's code, e.g. S001")]


def _per_minute(request: Request) -> int:
    return int(request.app.state.settings.resident_rate_per_min) * 4  # browsing asks more often than filing


LIMITED = [Depends(rate_limited("public-catalogue", _per_minute))]


class CatalogueOut(BaseModel):
    groups: list[str]
    items: list[dict[str, Any]]


@router.get("/api/v1/public/catalogue", dependencies=LIMITED)
async def browse(session: SessionDep,
                 q: Annotated[SafeLine | None, Query(max_length=64, description="matched in names, departments, "
                                                                                "conditions and materials")] = None,
                 group: Annotated[SafeLine | None, Query(max_length=32, description="e.g. 行政审批")] = None,
                 ) -> CatalogueOut:
    """Every active item (or those matching), with the groups to browse by."""
    items = await catalogue.search(session, q=(q or "").strip() or None, group=group or None)
    return CatalogueOut(groups=await catalogue.groups(session), items=[catalogue.as_dict(i) for i in items])


@router.get("/api/v1/public/catalogue/{code}", dependencies=LIMITED)
async def item(code: Code, session: SessionDep) -> dict[str, Any]:
    """One item: conditions, materials, office and address, hours, time limit, phone."""
    return catalogue.as_dict(await catalogue.get_item(session, code))


@router.get("/api/v1/catalogue.xlsx", response_class=Response,
            responses={200: {"content": {XLSX: {}}, "description": "the catalogue as an XLSX workbook"}})
async def export(session: SessionDep, _: Operator) -> Response:
    """The whole active catalogue as XLSX (Chinese headers, one row per item)."""
    data = catalogue.export_xlsx(await catalogue.search(session))
    return Response(data, media_type=XLSX,
                    headers={"Content-Disposition": "attachment; filename=service-catalogue.xlsx"})


class AdminCatalogueOut(CatalogueOut):
    editable: bool = Field(description="false for a region admin: the catalogue is district-wide")


@router.get("/api/v1/admin/catalogue")
async def admin_list(session: SessionDep, principal: Admin,
                     q: Annotated[SafeLine | None, Query(max_length=64)] = None,
                     group: Annotated[SafeLine | None, Query(max_length=32)] = None) -> AdminCatalogueOut:
    """Every item, withdrawn ones too (`active` false), matching `q` in `group` if given (the 服务事项 tab)."""
    items = await catalogue.search(session, q=(q or "").strip() or None, group=group or None, withdrawn=True)
    return AdminCatalogueOut(groups=await catalogue.groups(session, withdrawn=True),
                             items=[catalogue.as_dict(i) | {"active": i.active} for i in items],
                             editable=catalogue.can_edit(principal))


Line = Annotated[VisibleLine, Field(min_length=1, max_length=200)]


class ItemIn(Body):
    name: Line
    group_name: Annotated[VisibleLine, Field(min_length=1, max_length=32)]
    department: Annotated[VisibleLine, Field(min_length=1, max_length=100)]
    category_code: Annotated[SafeLine | None, Field(max_length=64)] = None
    level: Literal["community", "street", "district"]
    item_type: Literal["immediate", "promise", "joint", "answer"]
    conditions: Annotated[VisibleText, Field(min_length=1, max_length=4000)]
    materials: list[Annotated[VisibleLine, Field(min_length=1, max_length=200)]] = Field(max_length=50)
    office: Line
    address: Annotated[VisibleLine, Field(min_length=1, max_length=300)]
    hours: Annotated[VisibleLine, Field(min_length=1, max_length=100)]
    time_limit_days: Integer | None = Field(None, ge=1, le=365, description="working days; null: on the spot")
    phone: Annotated[SafeLine, Field(min_length=3, max_length=32)]
    online: bool = False
    offline: bool = True


def _out(item_row: ServiceItem) -> dict[str, Any]:
    return audit.snapshot(item_row, catalogue.AUDIT_FIELDS)


@router.put("/api/v1/admin/catalogue/{code}", responses={201: {"description": "a new item was created"}})
async def save(code: Code, body: ItemIn, session: SessionDep, principal: Admin, response: Response
               ) -> dict[str, Any]:
    """Create or replace an item, publishing it again if it was withdrawn (admins without a region; audited).
    422: an unknown category or a malformed field; 403: a region admin. Nothing changes then."""
    item_row, before = await catalogue.save_item(session, principal, code=code, values=body.model_dump())
    await audit.record(session, principal=principal, action="create" if before is None else "edit",
                       entity="service_item", entity_id=code, before=before, after=_out(item_row))
    response.status_code = 201 if before is None else 200
    return catalogue.as_dict(item_row)


@router.delete("/api/v1/admin/catalogue/{code}", status_code=204, response_class=Response)
async def withdraw(code: Code, session: SessionDep, principal: Admin) -> Response:
    """Withdraw an item from the published catalogue (admins without a region; audited); it is kept for the
    requests that name it, and saving it again publishes it again."""
    before = await catalogue.withdraw(session, principal, code=code)
    await audit.record(session, principal=principal, action="withdraw", entity="service_item", entity_id=code,
                       before=before, after=before | {"active": False})
    return Response(status_code=204)
