"""A published report's files: the PDF (Jinja2 HTML typeset by WeasyPrint in the Noto CJK fonts, charts as inline
SVG) and the XLSX (one sheet per table). Both are made from the stored figures alone, so a file can be rebuilt
from its row."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from openpyxl import Workbook

from command.reports.ledger import _active_worksheet, neutralise
from command.reports.published_figures import period_label

_ENV = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                   autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
RATES = (("response_rate", "响应率"), ("resolution_rate", "办结率"), ("on_time_rate", "按期办结率"),
         ("rework_rate", "返工率"), ("satisfaction_rate", "满意率"))


def html(figures: dict[str, Any], *, analysis: str | None, status: str, generated: datetime) -> str:
    return _ENV.get_template("published_report.html").render(
        f=figures, analysis=analysis, status=status, period_label=period_label(figures["period"]),
        generated=generated.strftime("%Y-%m-%d %H:%M"))


def pdf(figures: dict[str, Any], *, analysis: str | None, status: str, generated: datetime) -> bytes:
    from weasyprint import HTML  # type: ignore[import-untyped]  # imported on first use: loads pango

    out: bytes = HTML(string=html(figures, analysis=analysis, status=status, generated=generated)).write_pdf()
    return out


def _cell(v: Any) -> Any:
    if v is None:
        return ""
    return v if isinstance(v, int | float) else neutralise(str(v))


def _sheet(wb: Workbook, title: str, headers: list[str], rows: list[list[Any]], first: bool = False) -> None:
    sheet = _active_worksheet(wb) if first else wb.create_sheet()
    sheet.title = title
    sheet.append(headers)
    for row in rows:
        sheet.append([_cell(v) for v in row])
    sheet.freeze_panes = "A2"


def _figure_rows(rows: list[dict[str, Any]]) -> list[list[Any]]:
    return [[r["key"], r["name"], r["received"], r["resolved"], r["resolved_on_time"], r["reworked"],
             *[r["rates"].get(code) for code, _ in RATES]] for r in rows]


def xlsx(figures: dict[str, Any], *, analysis: str | None) -> bytes:
    wb = Workbook()
    head = ["代码 Code", "名称 Name", "受理 Received", "办结 Resolved", "按期办结 On time", "返工 Reworked",
            *[f"{zh} {code}" for code, zh in RATES]]
    summary = [[figures["title"], figures["region"]["name"], period_label(figures["period"])]]
    if analysis:
        summary.append(["研判 Analysis", analysis, ""])
    _sheet(wb, "概况 Summary", ["报告 Report", "区域 Region", "期间 Period"], summary, first=True)
    _sheet(wb, "合计 Total", head, _figure_rows([figures["total"], figures["previous_total"]]))
    _sheet(wb, "分区域 Regions", head, _figure_rows(figures["by_region"]))
    _sheet(wb, "分类别 Categories", head, _figure_rows(figures["by_category"]))
    for key, title in (("new", "新增 New"), ("overdue", "超期 Overdue"), ("supervised", "督办 Supervised")):
        if key in figures:
            _sheet(wb, title, ["编号 Id", "时间 At", "类别 Category", "区域 Region", "状态 Status", "说明 Note"],
                   [[r["id"], r["at"], r["category_code"], r["region_code"], r["status"], r["description"]]
                    for r in figures[key]["rows"]])
    if "ranking" in figures:
        rk = figures["ranking"]
        _sheet(wb, "排名 Ranking", ["名次 Rank", "单位 Unit", "名称 Name", "得分 Score",
                                     *[i["name"] for i in rk["indices"]]],
               [[r["rank"], r["unit"], r["name"], r["score"], *r["values"]] for r in rk["rows"]])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
