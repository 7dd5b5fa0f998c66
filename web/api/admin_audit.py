"""/api/v1/admin/audit: the audit log of administrative changes, filtered, paged and exported (CSV/XLSX). A region
admin reads the entries of their region's entities (command.admin.audit)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from command.admin import audit
from web.api.stats import XLSX
from web.deps import Admin, SessionDep
from web.request_types import Id64, Instant, SafeLine

router = APIRouter(prefix="/api/v1/admin/audit", tags=["admin"])

Entity = Annotated[SafeLine | None, Query(max_length=32)]
Text64 = Annotated[SafeLine | None, Query(max_length=64)]


def _filters(entity: str | None, entity_id: str | None, actor: str | None, action: str | None,
             since: Instant | None, until: Instant | None) -> audit.AuditFilter:
    return audit.AuditFilter(entity=entity, entity_id=entity_id, actor=actor, action=action, since=since,
                             until=until)


@router.get("")
async def list_entries(principal: Admin, session: SessionDep, entity: Entity = None, entity_id: Text64 = None,
                       actor: Text64 = None, action: Entity = None, since: Annotated[Instant | None, Query()] = None,
                       until: Annotated[Instant | None, Query()] = None,
                       before_id: Annotated[Id64 | None, Query()] = None,
                       limit: Annotated[int, Query(ge=1, le=500)] = 100) -> dict:
    """The newest entries first; page on with `before_id` (the last id of the previous page)."""
    rows = await audit.entries(session, principal=principal,
                               filters=_filters(entity, entity_id, actor, action, since, until),
                               limit=limit, before_id=before_id)
    return {"entries": [audit.entry_out(e) for e in rows]}


@router.get("/export", response_class=Response, responses={200: {
    "content": {XLSX: {}, "text/csv": {}}, "description": "the entries as an XLSX workbook or a CSV file (UTF-8)"}})
async def export(principal: Admin, session: SessionDep, format: Literal["csv", "xlsx"] = "xlsx",
                 entity: Entity = None, entity_id: Text64 = None, actor: Text64 = None, action: Entity = None,
                 since: Annotated[Instant | None, Query()] = None,
                 until: Annotated[Instant | None, Query()] = None) -> Response:
    """Every matching entry (at most 50,000, newest first) as a file."""
    rows = await audit.entries(session, principal=principal,
                               filters=_filters(entity, entity_id, actor, action, since, until),
                               limit=audit.MAX_EXPORT)
    if format == "csv":
        return Response(audit.to_csv(rows), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="audit.csv"'})
    return Response(audit.to_xlsx(rows),
                    media_type=XLSX,
                    headers={"Content-Disposition": 'attachment; filename="audit.xlsx"'})
