"""Assessment (考核): indices, versioned schemes, scores and rankings per period, explanations, publishing,
and any table as XLSX — /api/v1/assessment/… (docs/assessment.md)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import Field

from command.core.errors import InvalidInput
from command.reports import assessment, assessment_schemes, periods
from command.reports.assessment_indices import INDICES
from command.reports.tables_xlsx import scores_table, table_xlsx
from web.api.stats import XLSX
from web.deps import Admin, Operator, ReadSessionDep, SessionDep, SettingsDep, Supervisor
from web.openapi_errors import errors
from web.request_models import Body
from web.request_types import Day, SafeLine, SafeText

router = APIRouter(prefix="/api/v1/assessment", tags=["assessment"])

LevelName = Literal["district", "street", "community", "grid", "department", "worker"]
PeriodName = Literal["day", "week", "half_month", "month", "quarter", "year", "range"]
Scope = Annotated[SafeLine | None, Query(max_length=64, description="a region code within the caller's")]
Unit = Annotated[SafeLine, Query(min_length=1, max_length=64)]
MAX_ROWS = 20_000


async def _request(session: SessionDep, principal: Any, settings: Any, level: str, period: str, day: date,
                   until: date | None, scope: str | None) -> assessment.Request:
    p = periods.period_of(period, day, until)
    return assessment.Request(level, p, await assessment.resolve_scope(session, principal, scope), settings.timezone)


def _xlsx(name: str, body: bytes) -> Response:
    return Response(body, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})


@router.get("/indices")
async def list_indices(principal: Operator) -> dict[str, Any]:
    return {"indices": [{"code": i.code, "name_zh": i.name_zh, "name_en": i.name_en, "kind": i.kind,
                         "numerator": i.num, "denominator": i.den, "direction": i.direction,
                         "levels": sorted(i.levels), "note": i.note} for i in INDICES]}


@router.get("/schemes")
async def list_schemes(principal: Operator, session: SessionDep, level: LevelName = "street") -> dict[str, Any]:
    """The versions of a level's scheme, oldest first (the built-in default, id null, first), each with who stored
    it and when (`created_by`, `created_at`; absent for the default)."""
    versions = await assessment_schemes.versions(session, level=level)
    return {"level": level, "versions": [v.as_dict() | v.extra for v in versions]}


class WeightIn(Body):
    code: SafeLine = Field(min_length=1, max_length=64)
    weight: float = Field(gt=0, le=1000)
    direction: Literal["up", "down"] | None = None
    target: float | None = Field(None, gt=0, le=1e6)


class SchemeIn(Body):
    level: LevelName
    name: SafeLine = Field(min_length=1, max_length=100)
    effective_from: Day
    indices: list[WeightIn] = Field(min_length=1, max_length=assessment_schemes.MAX_INDICES)
    note: SafeText | None = Field(None, max_length=2000)


@router.post("/schemes", status_code=201)
async def add_scheme(body: SchemeIn, principal: Admin, session: SessionDep) -> dict[str, Any]:
    """A new version of a level's scheme, in force from `effective_from`; earlier periods keep theirs."""
    scheme = await assessment_schemes.add_version(
        session, level=body.level, name=body.name, effective_from=body.effective_from,
        indices=[w.model_dump() for w in body.indices], note=body.note, user_id=principal.user_id)
    return scheme.as_dict()


@router.get("/scores", responses={200: {"content": {"application/json": {}, XLSX: {}}}})
async def get_scores(principal: Operator, session: ReadSessionDep, settings: SettingsDep,
                     day: Annotated[Day, Query(alias="date")], level: LevelName = "street",
                     period: PeriodName = "month", to: Day | None = None, scope: Scope = None,
                     fmt: Literal["json", "xlsx"] = Query("json", alias="format")) -> Any:
    """Each unit's indices, score and rank for the period containing `date` (a range: `date` to `to`), with
    the previous period's beside them; a published period as it was published."""
    req = await _request(session, principal, settings, level, period, day, to, scope)
    result = await assessment.scores(session, req)
    if fmt == "xlsx":
        headers, rows = scores_table(result)
        name = f"assessment-{level}-{req.period.start:%Y%m%d}-{req.period.end:%Y%m%d}"
        return _xlsx(name, table_xlsx(f"考核 {level} {req.period.start}–{req.period.end}", headers, rows))
    return result


@router.get("/explain")
async def explain(principal: Operator, session: ReadSessionDep, settings: SettingsDep, unit: Unit,
                  day: Annotated[Day, Query(alias="date")], level: LevelName = "street",
                  period: PeriodName = "month", to: Day | None = None, scope: Scope = None) -> dict[str, Any]:
    """One unit's score taken apart: each index's numerator and denominator and the incidents behind them."""
    req = await _request(session, principal, settings, level, period, day, to, scope)
    return await assessment.explain(session, req, unit)


class PublishIn(Body):
    level: LevelName
    period: PeriodName
    date: Day
    to: Day | None = None
    scope: SafeLine | None = Field(None, max_length=64)


@router.post("/publish", status_code=201, responses=errors(409))
async def publish(body: PublishIn, principal: Supervisor, session: SessionDep, settings: SettingsDep) -> dict[str, Any]:
    """Store a closed period's scores as final: later scheme versions do not change them (409 if the period
    has not ended or was published already)."""
    req = await _request(session, principal, settings, body.level, body.period, body.date, body.to, body.scope)
    return await assessment.publish(session, req, user_id=principal.user_id, tz=settings.timezone)


CellIn = Annotated[SafeText, Field(max_length=2000)] | int | float | None


class TableIn(Body):
    title: SafeLine = Field(min_length=1, max_length=200)
    headers: list[Annotated[SafeLine, Field(max_length=200)]] = Field(min_length=1, max_length=100)
    rows: list[list[CellIn]] = Field(max_length=MAX_ROWS)


@router.post("/table.xlsx", response_class=Response, responses={200: {"content": {XLSX: {}}}})
async def table_as_xlsx(body: TableIn, principal: Operator) -> Response:
    """The table a page shows, as an XLSX file (what the caller already sees, cells neutralised)."""
    for n, row in enumerate(body.rows):
        if len(row) > len(body.headers):
            raise InvalidInput(f"row {n} has more cells than headers", details=[{"field": f"rows[{n}]"}])
    return _xlsx("table", table_xlsx(body.title, body.headers, body.rows))
