"""Published reports (通报): the list on /supervise, PDF and XLSX downloads, a half-monthly report's 研判 text
and its release (which pushes it to the subscribers as a notice), and the subscriptions that decide which regions
get reports — /api/v1/reports/… (docs/assessment.md, "Scheduled reports")."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import Field

from command.core.errors import InvalidInput
from command.core.scoping import unrestricted
from command.ops import report_jobs
from command.reports import assessment, published
from command.reports.published_figures import KINDS, WHOLE
from web.api.stats import XLSX
from web.deps import Operator, ReadSessionDep, SessionDep, SettingsDep, Supervisor
from web.openapi_errors import errors
from web.request_models import Body
from web.request_types import Id32, SafeLine, SafeText

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])
KindName = Literal["daily", "weekly", "half_monthly", "monthly"]
_TYPES = {"pdf": "application/pdf", "xlsx": XLSX}


# Declared before /{report_id}, which would otherwise take the path.
class SubscriptionIn(Body):
    user_id: Id32
    region: SafeLine = Field(min_length=1, max_length=64)
    kinds: list[KindName] = Field(max_length=len(KINDS))


@router.get("/subscriptions")
async def subscriptions(principal: Operator, session: SessionDep) -> dict[str, Any]:
    scope = await assessment.resolve_scope(session, principal, None)
    return {"subscriptions": await published.list_subscriptions(session, scope)}


@router.put("/subscriptions")
async def set_subscription(body: SubscriptionIn, principal: Supervisor, session: SessionDep) -> dict[str, Any]:
    """Subscribe an account to a region's reports of these kinds (none: unsubscribe); the region within the
    caller's, or `*` for the whole deployment (全域: every top-level region, ranked; an account without a region
    only)."""
    if body.region == WHOLE:
        if not unrestricted(principal):
            raise InvalidInput("only an account without a region subscribes to the whole deployment (*)",
                               details=[{"field": "region"}])
        region: str | None = WHOLE
    else:
        region = await assessment.resolve_scope(session, principal, body.region)
    if region is None:
        raise InvalidInput("choose a region", details=[{"field": "region"}])
    return await published.subscribe(session, user_id=body.user_id, region=region, kinds=list(body.kinds))


@router.get("")
async def list_reports(principal: Operator, session: ReadSessionDep,
                       limit: Annotated[int, Query(ge=1, le=500)] = 100) -> dict[str, Any]:
    """Reports of the caller's region and below, newest period first (without their files)."""
    return {"reports": await published.list_reports(session, principal, limit=limit)}


@router.get("/{report_id}")
async def get_report(report_id: Id32, principal: Operator, session: SessionDep) -> dict[str, Any]:
    """One report with the figures it shows."""
    return await published.get(session, principal, report_id)


@router.get("/{report_id}/file", response_class=Response,
            responses={200: {"content": {"application/pdf": {}, XLSX: {}}, "description": "the report file"}})
async def report_file(report_id: Id32, principal: Operator, session: ReadSessionDep,
                      fmt: Literal["pdf", "xlsx"] = Query("pdf", alias="format")) -> Response:
    body, name = await published.file(session, principal, report_id, fmt)
    return Response(body, media_type=_TYPES[fmt], headers={"Content-Disposition": f'attachment; filename="{name}"'})


class AnalysisIn(Body):
    analysis: SafeText = Field(min_length=1, max_length=published.MAX_ANALYSIS)


@router.put("/{report_id}/analysis", responses=errors(409))
async def write_analysis(report_id: Id32, body: AnalysisIn, principal: Supervisor, session: SessionDep,
                         settings: SettingsDep) -> dict[str, Any]:
    """Save the 研判 section of a draft half-monthly report (409 once released or for another kind)."""
    return await published.write_analysis(session, principal, report_id, body.analysis, tz=settings.timezone)


@router.post("/{report_id}/release", responses=errors(409))
async def release(report_id: Id32, principal: Supervisor, session: SessionDep,
                  settings: SettingsDep) -> dict[str, Any]:
    """Release a draft (409 without a 研判 text or when already released): it reaches its subscribers."""
    return await report_jobs.release(session, principal, report_id, tz=settings.timezone)
