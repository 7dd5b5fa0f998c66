"""Published reports (通报) stored as rows: the figures, the PDF and the XLSX; subscriptions (user → region and
report kinds) that decide which regions get reports; a half-monthly report's 研判 text edited while it is a draft
and then released. Pushing a released report to its subscribers is the job's (command/ops/report_jobs.py):
notices belong to admin, which reports does not import."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from command.core.clock import utcnow
from command.core.errors import Conflict, InvalidInput, NotFound
from command.core.scoping import unrestricted
from command.core.security import Principal
from command.reports import published_figures as pf
from command.reports import published_render as render

MAX_ANALYSIS = 20_000  # characters of 研判 text
_LISTED = ("p.id, p.kind, p.period_start, p.period_end, p.region_code, p.status, p.analysis, p.generated_at, "
           "p.released_at, p.notice_id, length(p.pdf) AS pdf_bytes, length(p.xlsx) AS xlsx_bytes")
# The whole deployment's reports (region '*') have no region row; only an account without a region sees them.
_REGION_NAME = f"COALESCE(r.name, '{pf.WHOLE_NAME}') AS region_name"


def needs_release(kind: str) -> bool:
    """A half-monthly analysis waits for the supervisor's 研判; every other kind is released when generated."""
    return kind == "half_monthly"


async def subscribed_targets(session: AsyncSession) -> list[tuple[str, str]]:
    """(region, kind) pairs that have at least one subscriber."""
    rows = await session.execute(text(
        "SELECT DISTINCT s.region_code, k.kind FROM report_subscriptions s JOIN users u ON u.id = s.user_id "
        "CROSS JOIN LATERAL unnest(s.kinds) AS k(kind) WHERE u.active ORDER BY 1, 2"))
    return [(r.region_code, r.kind) for r in rows]


async def subscribers(session: AsyncSession, region: str, kind: str) -> list[int]:
    rows = await session.execute(text(
        "SELECT s.user_id FROM report_subscriptions s JOIN users u ON u.id = s.user_id WHERE u.active "
        "AND s.region_code = :r AND :k = ANY(s.kinds) ORDER BY s.user_id"), {"r": region, "k": kind})
    return [r.user_id for r in rows]


async def subscribe(session: AsyncSession, *, user_id: int, region: str, kinds: list[str]) -> dict[str, Any]:
    """Set a user's subscription to a region (kinds empty: remove it)."""
    bad = sorted(set(kinds) - set(pf.KINDS))
    if bad:
        raise InvalidInput(f"unknown report kind {bad[0]!r}: one of {', '.join(pf.KINDS)}",
                           details=[{"field": "kinds"}])
    if region != pf.WHOLE and not await session.scalar(text("SELECT 1 FROM regions WHERE code = :c"),
                                                       {"c": region}):
        raise InvalidInput(f"unknown region {region!r}", details=[{"field": "region"}])
    if not await session.scalar(text("SELECT 1 FROM users WHERE id = :u AND active"), {"u": user_id}):
        raise InvalidInput(f"unknown or inactive user {user_id}", details=[{"field": "user_id"}])
    if not kinds:
        await session.execute(text("DELETE FROM report_subscriptions WHERE user_id = :u AND region_code = :r"),
                              {"u": user_id, "r": region})
    else:
        await session.execute(text(
            "INSERT INTO report_subscriptions (user_id, region_code, kinds) VALUES (:u, :r, :k) "
            "ON CONFLICT (user_id, region_code) DO UPDATE SET kinds = EXCLUDED.kinds"),
            {"u": user_id, "r": region, "k": sorted(set(kinds))})
    return {"user_id": user_id, "region": region, "kinds": sorted(set(kinds))}


async def list_subscriptions(session: AsyncSession, region: str | None) -> list[dict[str, Any]]:
    rows = await session.execute(text(
        "SELECT s.user_id, u.username, u.display_name, s.region_code, s.kinds FROM report_subscriptions s "
        "JOIN users u ON u.id = s.user_id LEFT JOIN regions r ON r.code = s.region_code "
        "WHERE CAST(:scope AS text) IS NULL OR r.path @> ARRAY[CAST(:scope AS varchar)] "
        "ORDER BY s.region_code, s.user_id"), {"scope": region})
    return [dict(r._mapping) for r in rows]


async def exists(session: AsyncSession, target: pf.Target) -> bool:
    return bool(await session.scalar(text(
        "SELECT 1 FROM published_reports WHERE kind = :k AND period_start = :s AND region_code = :r"),
        {"k": target.kind, "s": target.period.start, "r": target.region_code}))


async def generate(session: AsyncSession, target: pf.Target, *, tz: str, now: datetime | None = None) -> int | None:
    """Gather, render and store a report (a draft if it waits for 研判); None if another process stored it first."""
    now = now or utcnow()
    figures = await pf.gather(session, target, tz=tz)
    status = "draft" if needs_release(target.kind) else "released"
    local = now.astimezone(ZoneInfo(tz))
    pdf = render.pdf(figures, analysis=None, status=status, generated=local)
    xlsx = render.xlsx(figures, analysis=None)
    rid: int | None = await session.scalar(text(
        "INSERT INTO published_reports (kind, period_start, period_end, region_code, status, figures, pdf, xlsx, "
        "generated_at, released_at) VALUES (:k, :s, :e, :r, :st, CAST(:f AS jsonb), :pdf, :xlsx, :now, :rel) "
        "ON CONFLICT (kind, period_start, region_code) DO NOTHING RETURNING id"),
        {"k": target.kind, "s": target.period.start, "e": target.period.end, "r": target.region_code,
         "st": status, "f": json.dumps(figures, default=str), "pdf": pdf, "xlsx": xlsx, "now": now,
         "rel": now if status == "released" else None})
    return rid


def _in_scope(principal: Principal) -> str | None:
    return None if unrestricted(principal) else principal.region_code


async def list_reports(session: AsyncSession, principal: Principal, *, limit: int = 100) -> list[dict[str, Any]]:
    """Reports of the caller's region and below, newest period first."""
    rows = await session.execute(text(
        f"SELECT {_LISTED}, {_REGION_NAME} FROM published_reports p LEFT JOIN regions r ON r.code = p.region_code "
        "WHERE CAST(:scope AS text) IS NULL OR r.path @> ARRAY[CAST(:scope AS varchar)] "
        "ORDER BY p.period_start DESC, p.kind, p.region_code LIMIT :limit"),
        {"scope": _in_scope(principal), "limit": limit})
    return [_out(dict(r._mapping)) for r in rows]


def _out(row: dict[str, Any]) -> dict[str, Any]:
    for k in ("period_start", "period_end", "generated_at", "released_at"):
        row[k] = row[k].isoformat() if row.get(k) is not None else None
    row["title"] = pf.TITLES[row["kind"]]
    return row


async def get(session: AsyncSession, principal: Principal, report_id: int, *, lock: bool = False) -> dict[str, Any]:
    """One report with its figures (NotFound outside the caller's region)."""
    row = (await session.execute(text(
        f"SELECT {_LISTED}, p.figures, {_REGION_NAME} FROM published_reports p "
        "LEFT JOIN regions r ON r.code = p.region_code WHERE p.id = :id "
        "AND (CAST(:scope AS text) IS NULL OR r.path @> ARRAY[CAST(:scope AS varchar)])"
        + (" FOR UPDATE OF p" if lock else "")),
        {"id": report_id, "scope": _in_scope(principal)})).mappings().first()
    if row is None:
        raise NotFound(f"no report {report_id} in your region")
    return _out(dict(row))


async def file(session: AsyncSession, principal: Principal, report_id: int, fmt: str) -> tuple[bytes, str]:
    """The PDF or XLSX and a file name for it."""
    meta = await get(session, principal, report_id)
    body = await session.scalar(text(f"SELECT {'pdf' if fmt == 'pdf' else 'xlsx'} FROM published_reports "
                                     "WHERE id = :id"), {"id": report_id})
    region = "all" if meta["region_code"] == pf.WHOLE else meta["region_code"]
    name = f"{meta['kind']}-{region}-{meta['period_start']}.{fmt}"
    return bytes(body or b""), name


async def write_analysis(session: AsyncSession, principal: Principal, report_id: int, analysis: str,
                         *, tz: str) -> dict[str, Any]:
    """Save the 研判 text of a draft and re-render its files with it (Conflict once released)."""
    report = await get(session, principal, report_id, lock=True)
    if not needs_release(report["kind"]):
        raise Conflict(f"a {report['kind']} report has no 研判 section")
    if report["status"] != "draft":
        raise Conflict("this report is already released")
    if len(analysis) > MAX_ANALYSIS:
        raise InvalidInput(f"at most {MAX_ANALYSIS} characters of analysis", details=[{"field": "analysis"}])
    await _rerender(session, report, analysis, "draft", tz)
    return await get(session, principal, report_id)


async def mark_released(session: AsyncSession, principal: Principal, report_id: int, *, tz: str) -> dict[str, Any]:
    """Release a draft: its files are rendered without the draft mark; needs a 研判 text."""
    report = await get(session, principal, report_id, lock=True)
    if report["status"] != "draft":
        raise Conflict("this report is already released")
    if not (report["analysis"] or "").strip():
        raise Conflict("write the 研判 analysis before releasing")
    await _rerender(session, report, report["analysis"], "released", tz)
    await session.execute(text("UPDATE published_reports SET status = 'released', released_at = now(), "
                               "released_by = :by WHERE id = :id"),
                          {"id": report_id, "by": principal.user_id or None})
    return await get(session, principal, report_id)


async def _rerender(session: AsyncSession, report: dict[str, Any], analysis: str, status: str, tz: str) -> None:
    figures = report["figures"] if isinstance(report["figures"], dict) else json.loads(report["figures"])
    generated = datetime.fromisoformat(report["generated_at"]).astimezone(ZoneInfo(tz))
    await session.execute(text("UPDATE published_reports SET analysis = :a, pdf = :pdf, xlsx = :xlsx WHERE id = :id"),
                          {"id": report["id"], "a": analysis,
                           "pdf": render.pdf(figures, analysis=analysis, status=status, generated=generated),
                           "xlsx": render.xlsx(figures, analysis=analysis)})


async def set_notice(session: AsyncSession, report_id: int, notice_id: int | None) -> None:
    await session.execute(text("UPDATE published_reports SET notice_id = :n WHERE id = :id"),
                          {"id": report_id, "n": notice_id})
