"""Statistics and the ledger (台账): /api/v1/stats and /api/v1/ledger (CSV or XLSX), scoped to the
caller's region."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse, Response, StreamingResponse
from starlette.background import BackgroundTask

from command.reports import ledger, stats
from web.deps import Operator, ReadSessionDep, SettingsDep, StreamingReadSessionDep
from web.request_types import Instant, SafeLine

router = APIRouter(prefix="/api/v1", tags=["statistics"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/stats")
async def figures(start: Annotated[Instant, Query(alias="from")],
                  end: Annotated[Instant, Query(alias="to")], principal: Operator,
                  session: ReadSessionDep, settings: SettingsDep,
                  group: Literal["category", "region", "department", "period", "service_item", "total"] = "total",
                  period: Literal["day", "week", "half_month", "month"] = "day",
                  region: Annotated[SafeLine | None, Query(max_length=64)] = None,
                  category: Annotated[SafeLine | None, Query(max_length=64)] = None,
                  department: Annotated[SafeLine | None, Query(max_length=64)] = None) -> dict:
    q = stats.Query(start=start, end=end, group=group, period=period, region_code=region, category_code=category,
                    department_code=department, tz=settings.timezone)
    rows = await stats.compute(session, principal=principal, q=q)
    return {"group": group, "period": period if group == "period" else None,
            "rows": [r.as_dict() for r in rows], "total": stats.total(rows).as_dict()}


@router.get("/ledger", response_class=Response,
            responses={200: {"content": {"text/csv": {}, XLSX: {}}, "description": "the ledger file"}})
async def export_ledger(start: Annotated[Instant, Query(alias="from")],
                        end: Annotated[Instant, Query(alias="to")], principal: Operator,
                        session: StreamingReadSessionDep, settings: SettingsDep,
                        fmt: Literal["csv", "xlsx"] = Query("xlsx", alias="format"),
                        region: Annotated[SafeLine | None, Query(max_length=64)] = None) -> Response:
    """Streamed: CSV row batches as the cursor gives them; XLSX built in a temporary file, then sent from disk
    (command.reports.ledger). Memory stays flat however many rows the range holds."""
    q = stats.Query(start=start, end=end, group="category", region_code=region, tz=settings.timezone)
    figures_by_category = await stats.compute(session, principal=principal, q=q)  # also validates the query
    batches = ledger.stream_rows(session, principal=principal, start=start, end=end, region_code=region)
    tz = ZoneInfo(settings.timezone)
    name = f"ledger-{start.astimezone(tz):%Y%m%d}-{end.astimezone(tz):%Y%m%d}"
    if fmt == "csv":
        return StreamingResponse(ledger.csv_chunks(batches, tz), media_type="text/csv; charset=utf-8",
                                 headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    fd, raw_path = tempfile.mkstemp(prefix="gridcmd-ledger-", suffix=".xlsx")
    os.close(fd)
    path = Path(raw_path)
    try:
        await ledger.write_xlsx(batches, [*figures_by_category, stats.total(figures_by_category)], tz, path)
    except BaseException:
        _remove(path)
        raise
    return FileResponse(path, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
                        background=BackgroundTask(_remove, path))


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()
