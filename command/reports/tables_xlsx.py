"""Any table as an XLSX file: a title row, the headers, the rows; text cells neutralised against formula
injection (command/reports/ledger.py), so a name starting with "=" is shown, never run."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook

from command.reports.ledger import _active_worksheet, neutralise

Cell = str | int | float | None


def _cell(v: Any) -> Cell:
    if v is None or isinstance(v, bool):
        return "" if v is None else ("是" if v else "否")
    if isinstance(v, int | float):
        return v
    return neutralise(str(v))


def table_xlsx(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    wb = Workbook()
    sheet = _active_worksheet(wb)
    sheet.title = "".join(ch for ch in title if ch not in "[]:*?/\\")[:31] or "Sheet"
    sheet.append([neutralise(title)])
    sheet.append([neutralise(h) for h in headers])
    for row in rows:
        sheet.append([_cell(v) for v in row])
    sheet.freeze_panes = "A3"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def scores_table(result: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """The ranking of a scores result as headers and rows (rank, unit, name, score, previous, each index)."""
    codes = [w["code"] for w in result["scheme"]["indices"]]
    headers = ["名次 Rank", "单位 Unit", "名称 Name", "得分 Score", "上期得分 Previous"]
    for c in codes:
        headers += [f"{c} 值 value", f"{c} 分子 num", f"{c} 分母 den"]
    rows = []
    for r in result["rows"]:
        row: list[Any] = [r.get("rank"), r["unit"], r.get("name"), r.get("score"), r.get("prev_score")]
        for c in codes:
            f = r["indices"].get(c) or {}
            row += [f.get("value"), f.get("num"), f.get("den")]
        rows.append(row)
    return headers, rows
