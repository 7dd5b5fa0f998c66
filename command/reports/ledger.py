"""The ledger (台账): every incident with its named responsible person, times, status, deadlines and
satisfaction, exported as CSV (UTF-8 with BOM, for Excel) and XLSX (openpyxl; a second sheet holds the
statistics of the same range so the file reads back with the same figures).

A province's month is a million rows: nothing holds them all. The rows come from a server-side cursor in batches
(`stream_rows`); CSV goes out chunk by chunk as they come; XLSX is written by openpyxl's write-only workbook
(each row goes to a temporary file at once) in a worker thread, batch by batch, so the event loop keeps serving
while a big file is built, and the finished file is sent from disk.

Text cells are neutralised against formula injection (OWASP "CSV injection"): a cell starting with = + - @, a
tab or a carriage return would be run as a formula by a spreadsheet, so it gets a leading apostrophe, in both
formats (openpyxl, too, would store "=…" as a formula)."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from command.core.scoping import unrestricted
from command.core.security import Principal
from command.reports.stats import COUNTS, Figures

# (key, header) — headers in Chinese first, as the centres file them.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "编号 ID"), ("public_id", "查询码 Public ID"), ("created_at", "受理时间 Received"),
    ("category_code", "类别 Category"), ("service_item_code", "服务事项 Service item"),
    ("item_type", "办件类型 Item type"), ("channel", "渠道 Channel"),
    ("priority", "优先级 Priority"), ("region_code", "区域 Region"), ("status", "状态 Status"),
    ("responsible", "责任人 Responsible"), ("departments", "承办部门 Departments"),
    ("dispatched_at", "派遣时间 Dispatched"), ("responded_at", "响应时间 Responded"),
    ("respond_due_at", "响应时限 Respond by"), ("resolved_at", "办结时间 Resolved"),
    ("resolve_due_at", "办结时限 Resolve by"), ("closed_at", "结案时间 Closed"),
    ("overdue", "超期 Overdue"), ("supervision_level", "督办级别 Supervision"), ("reworks", "返工次数 Reworks"),
    ("reopens", "重办次数 Reopens"), ("satisfaction", "满意度 Satisfaction"),
)
_TIMES = {"created_at", "dispatched_at", "responded_at", "respond_due_at", "resolved_at", "resolve_due_at",
          "closed_at"}

_LEDGER_SQL = """
SELECT i.id, i.public_id, i.created_at, i.category_code, i.service_item_code, i.item_type, i.channel, i.priority,
  i.region_code, i.status, i.dispatched_at, i.respond_due_at, i.resolved_at, i.resolve_due_at, i.closed_at,
  COALESCE((SELECT min(o.accepted_at) FROM orders o WHERE o.incident_id = i.id), i.resolved_at) AS responded_at,
  (SELECT string_agg(o.department_code || CASE WHEN o.role = 'lead' THEN '(主)' ELSE '' END, ', ' ORDER BY o.id)
     FROM orders o WHERE o.incident_id = i.id AND o.assignee_kind = 'department'
      AND o.status NOT IN ('cancelled', 'returned', 'declined', 'timed_out')) AS departments,
  (SELECT CASE WHEN o.assignee_kind = 'worker' THEN w.name
               ELSE COALESCE(d.name, o.department_code) || COALESCE(' / ' || u.display_name, '') END
     FROM orders o LEFT JOIN workers w ON w.id = o.worker_id
     LEFT JOIN departments d ON d.code = o.department_code
     LEFT JOIN LATERAL (SELECT uu.display_name FROM events e JOIN users uu ON uu.id = e.actor_user_id
                         WHERE e.order_id = o.id AND e.kind = 'order.signed_for' ORDER BY e.id DESC LIMIT 1) u ON true
    WHERE o.incident_id = i.id AND o.status NOT IN ('cancelled', 'returned', 'declined', 'timed_out')
    ORDER BY (o.role = 'lead') DESC, o.id LIMIT 1) AS responsible,
  EXISTS (SELECT 1 FROM deadlines dl WHERE dl.incident_id = i.id AND dl.overdue_at IS NOT NULL) AS overdue,
  COALESCE((SELECT max(dl.supervision_level) FROM deadlines dl WHERE dl.incident_id = i.id), 0) AS supervision_level,
  (SELECT count(*) FROM events e WHERE e.incident_id = i.id AND e.kind = 'incident.rework') AS reworks,
  (SELECT count(*) FROM events e WHERE e.incident_id = i.id AND e.kind = 'incident.reopened') AS reopens,
  (SELECT c.rating FROM callbacks c WHERE c.incident_id = i.id ORDER BY c.id DESC LIMIT 1) AS satisfaction
FROM incidents i
WHERE i.created_at >= :start AND i.created_at < :end AND i.status <> 'merged' {scope}
ORDER BY i.id
"""


BATCH_ROWS = 2000  # rows per cursor fetch, per CSV chunk and per XLSX hand-over to the writer thread


async def stream_rows(session: AsyncSession, *, principal: Principal, start: datetime, end: datetime,
                      region_code: str | None = None) -> AsyncIterator[list[dict[str, Any]]]:
    """The ledger's rows in id order, BATCH_ROWS at a time, through a server-side cursor (the session's
    transaction must stay open while this is consumed)."""
    scope = region_code or (None if unrestricted(principal) else principal.region_code)
    sql = _LEDGER_SQL.format(scope="AND i.region_path @> ARRAY[CAST(:scope AS varchar)]" if scope else "")
    params = {"start": start, "end": end, **({"scope": scope} if scope else {})}
    result = await session.stream(text(sql).execution_options(yield_per=BATCH_ROWS), params)
    async for part in result.mappings().partitions(BATCH_ROWS):
        yield [dict(r) for r in part]


FORMULA_LEADERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """Text a spreadsheet will show, never evaluate."""
    return "'" + text if text.startswith(FORMULA_LEADERS) else text


def _cell(key: str, value: object, tz: ZoneInfo) -> object:
    if value is None:
        return ""
    if key in _TIMES and isinstance(value, datetime):
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
    if key == "public_id":
        return str(value)
    if key == "overdue":
        return "是" if value else "否"
    return neutralise(value) if isinstance(value, str) else value


def _row(row: dict[str, Any], tz: ZoneInfo) -> list[object]:
    return [_cell(k, row.get(k), tz) for k, _ in COLUMNS]


async def csv_chunks(batches: AsyncIterator[list[dict[str, Any]]], tz: ZoneInfo) -> AsyncIterator[bytes]:
    """The CSV file (UTF-8 with BOM, for Excel), one chunk per batch of rows."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    buf.write("\ufeff")
    writer.writerow([h for _, h in COLUMNS])
    async for batch in batches:
        writer.writerows(_row(row, tz) for row in batch)
        yield buf.getvalue().encode("utf-8")
        buf.seek(0)
        buf.truncate()
    if buf.tell():
        yield buf.getvalue().encode("utf-8")


STATS_SHEET = "统计 Statistics"
LEDGER_SHEET = "台账 Ledger"


def _active_worksheet(wb: Workbook) -> Worksheet:
    """The sheet a new Workbook starts with (openpyxl types `active` as possibly absent or a chart sheet)."""
    sheet = wb.active
    if not isinstance(sheet, Worksheet):
        raise TypeError("a new workbook has no active worksheet")
    return sheet


def _append(sheet: Any, rows: list[list[object]]) -> None:
    for row in rows:
        sheet.append(row)


async def write_xlsx(batches: AsyncIterator[list[dict[str, Any]]], figures: Sequence[Figures], tz: ZoneInfo,
                     path: Path) -> None:
    """The XLSX file at `path`: the ledger sheet (header row frozen) and the statistics sheet. openpyxl's
    write-only workbook keeps no rows in memory; the CPU-bound appends and the save run in a worker thread, one
    batch at a time (the workbook is only ever touched by one thread at once)."""
    wb = Workbook(write_only=True)
    sheet = wb.create_sheet(LEDGER_SHEET)
    sheet.freeze_panes = "A2"
    sheet.append([h for _, h in COLUMNS])
    async for batch in batches:
        await asyncio.to_thread(_append, sheet, [_row(row, tz) for row in batch])
    stats = wb.create_sheet(STATS_SHEET)
    rate_keys = list(figures[0].rates) if figures else []
    stats.append(["key", *COUNTS, *rate_keys])
    for f in figures:
        stats.append([neutralise(f.key), *(getattr(f, c) for c in COUNTS), *(f.rates[k] for k in rate_keys)])
    await asyncio.to_thread(wb.save, path)
