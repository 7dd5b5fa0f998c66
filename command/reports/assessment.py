"""Assessment (考核): each unit's indices, score and rank for a period, under the scheme in force on its first
day; published (closed) periods are stored and read back as they were; every figure explained by its incidents.

Score: each index of the scheme gives a part s in 0..1 — a rate `up` its value, `down` one minus it; a quantity
min(1, total / (target per day × days)) — and the score is 100 × Σ weight·s / Σ weight over the indices that
have a value (an index with an empty denominator is left out and the other weights carry the score). Ranking:
score high to low (equal scores share a rank, 1, 2, 2, 4), units without a score last."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from command.core.clock import utcnow
from command.core.errors import Conflict, InvalidInput
from command.core.scoping import unrestricted
from command.core.security import Principal
from command.reports import assessment_indices as ai
from command.reports import daily_facts
from command.reports.assessment_schemes import Scheme, in_force
from command.reports.periods import Period, previous

MAX_IDS = 2000  # incidents listed behind one figure (the count is always exact)


@dataclass(frozen=True)
class Request:
    level: str
    period: Period
    scope: str | None  # a region code; None: everything the caller sees
    tz: str = "Asia/Shanghai"


async def resolve_scope(session: AsyncSession, principal: Principal, scope: str | None) -> str | None:
    """The region the figures cover: the one asked for (within the caller's), else the caller's own."""
    if scope:
        path = await session.scalar(text("SELECT path FROM regions WHERE code = :c"), {"c": scope})
        if path is None:
            raise InvalidInput(f"unknown region {scope!r}", details=[{"field": "scope"}])
        if not unrestricted(principal) and principal.region_code not in path:
            raise InvalidInput(f"region {scope!r} is not within your region", details=[{"field": "scope"}])
        return scope
    return None if unrestricted(principal) else principal.region_code


def _params(req: Request) -> dict[str, Any]:
    start, end = req.period.bounds(req.tz)
    return {"start": start, "end": end, "kind": "department" if req.level == "department" else "worker",
            **({"scope": req.scope} if req.scope else {})}


async def sums(session: AsyncSession, req: Request) -> dict[str, dict[str, float]]:
    """unit → column → sum (every index's numerator and denominator): whole days from the daily facts where
    they are exact now, the rest from the raw rows (daily_facts.py)."""
    return await daily_facts.sums(session, level=req.level, period=req.period, scope=req.scope, tz=req.tz,
                                  params=_params(req))


async def raw_sums(session: AsyncSession, req: Request) -> dict[str, dict[str, float]]:
    """The same sums from the raw rows only (what the daily facts must equal)."""
    rows = (await session.execute(text(ai.sums_sql(req.level, scoped=bool(req.scope))), _params(req))).mappings()
    return {str(r["unit"]): {c: float(r[c] or 0) for c in ai.COLUMNS} for r in rows}


def index_figures(scheme: Scheme, unit_sums: dict[str, float], days: int) -> tuple[float | None, dict[str, Any]]:
    """The unit's score and, per index of the scheme, its numerator, denominator, value and part."""
    out: dict[str, Any] = {}
    total_w = got = 0.0
    for w in scheme.indices:
        index = ai.BY_CODE[w.code]
        num = unit_sums.get(index.num, 0.0)
        value: float | None
        part: float | None
        den: float | None
        if index.kind == "quantity":
            den = None
            total = num * index.scale
            value = total
            share = min(1.0, total / ((w.target or 1.0) * max(days, 1)))
            part = share if w.direction == "up" else 1.0 - share
        else:
            den = unit_sums.get(index.den or "", 0.0)
            value = num / den if den else None
            part = None if value is None else (min(value, 1.0) if w.direction == "up" else max(0.0, 1.0 - value))
        out[w.code] = {"num": _clean(num * index.scale), "den": _clean(den), "value": _round(value),
                       "part": _round(part), "weight": w.weight}
        if part is not None:
            total_w += w.weight
            got += w.weight * part
    return (round(100 * got / total_w, 2) if total_w else None), out


def _clean(x: float | None) -> float | int | None:
    if x is None:
        return None
    return int(x) if float(x).is_integer() else round(x, 3)


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def rank(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Sort by score (then unit) and number them; equal scores share a rank."""
    rows.sort(key=lambda r: (r["score"] is None, -(r["score"] or 0), r["unit"]))
    for n, row in enumerate(rows, 1):
        if row["score"] is None:
            row["rank"] = None
        elif n > 1 and rows[n - 2]["score"] == row["score"]:
            row["rank"] = rows[n - 2]["rank"]
        else:
            row["rank"] = n
    return rows


async def names(session: AsyncSession, level: str, units: list[str]) -> dict[str, str]:
    if not units:
        return {}
    if level in ai.REGION_LEVELS:
        # Grids are named within their community ("第3网格" recurs): the community's name goes first.
        sql = ("SELECT r.code AS k, CASE WHEN r.level = 'grid' AND p.name IS NOT NULL THEN p.name || ' ' || r.name "
               "ELSE r.name END AS name FROM regions r LEFT JOIN regions p ON p.id = r.parent_id "
               "WHERE r.code = ANY(:u)")
        keys: list[Any] = units
    elif level == "department":
        sql, keys = "SELECT code AS k, name FROM departments WHERE code = ANY(:u)", units
    else:
        sql = "SELECT id::text AS k, name FROM workers WHERE id = ANY(:u)"
        keys = [int(u) for u in units if u.isdigit()]
    return {r["k"]: r["name"] for r in (await session.execute(text(sql), {"u": keys})).mappings()}


async def compute(session: AsyncSession, req: Request, scheme: Scheme | None = None, *,
                  named: bool = True) -> dict[str, Any]:
    """Live figures: every unit's indices and score under `scheme` (default: the one in force), ranked.
    named=False leaves each unit's name as its code (a previous period read only for the trend)."""
    scheme = scheme or await in_force(session, level=req.level, on=req.period.start)
    by_unit = await sums(session, req)
    label = await names(session, req.level, list(by_unit)) if named else {}
    rows = []
    for unit, s in by_unit.items():
        score, figures = index_figures(scheme, s, req.period.days)
        rows.append({"unit": unit, "name": label.get(unit, unit), "score": score, "received": int(s["received"]),
                     "indices": figures})
    return {"level": req.level, "period": req.period.as_dict(), "scope": req.scope, "scheme": scheme.as_dict(),
            "published": None, "rows": rank(rows)}


async def published(session: AsyncSession, req: Request) -> dict[str, Any] | None:
    row = (await session.execute(text(
        "SELECT scheme, rows, published_at FROM assessment_results WHERE level = :level AND period_start = :s "
        "AND period_end = :e AND scope_code = :scope"),
        {"level": req.level, "s": req.period.start, "e": req.period.end, "scope": req.scope or ""})).mappings().first()
    if row is None:
        return None
    return {"level": req.level, "period": req.period.as_dict(), "scope": req.scope, "scheme": _json(row["scheme"]),
            "published": row["published_at"].isoformat(), "rows": _json(row["rows"])}


def _json(v: Any) -> Any:
    return json.loads(v) if isinstance(v, str) else v


async def scores(session: AsyncSession, req: Request, *, trend: bool = True) -> dict[str, Any]:
    """The published figures of a closed period if there are any, else live ones; with the previous period's
    score and index values beside each unit (the trend)."""
    out = await published(session, req) or await compute(session, req)
    if trend:
        prev_req = Request(req.level, previous(req.period), req.scope, req.tz)
        # Only its scores, ranks and values are shown beside this period's rows: its units' names are not read.
        prev = await published(session, prev_req) or await compute(session, prev_req, named=False)
        before = {r["unit"]: r for r in prev["rows"]}
        for row in out["rows"]:
            p = before.get(row["unit"])
            row["prev_score"] = p["score"] if p else None
            row["prev_rank"] = p["rank"] if p else None
            for code, fig in row["indices"].items():
                fig["prev_value"] = (p["indices"].get(code) or {}).get("value") if p else None
        out["previous_period"] = prev["period"]
    out["scope_chain"] = await scope_chain(session, req.scope)
    return out


async def scope_chain(session: AsyncSession, scope: str | None) -> list[dict[str, str]]:
    """The scope region and its ancestors, top first (a page's breadcrumb)."""
    if not scope:
        return []
    rows = (await session.execute(text(
        "SELECT r.code, r.name, r.level FROM regions s JOIN regions r ON r.code = ANY(s.path) WHERE s.code = :c "
        "ORDER BY r.depth"), {"c": scope})).mappings()
    return [dict(r) for r in rows]


async def publish(session: AsyncSession, req: Request, *, user_id: int | None, tz: str) -> dict[str, Any]:
    """Store a closed period's figures as they are now; a published period is final (409 the second time)."""
    _, end = req.period.bounds(tz)
    if end > utcnow():
        raise Conflict(f"the period ending {req.period.end.isoformat()} is not closed yet")
    if await published(session, req) is not None:
        raise Conflict("this period is already published")
    out = await compute(session, req)
    await session.execute(text(
        "INSERT INTO assessment_results (level, period_kind, period_start, period_end, scope_code, scheme_id, "
        "scheme, rows, published_by) VALUES (:level, :kind, :s, :e, :scope, :sid, CAST(:scheme AS jsonb), "
        "CAST(:rows AS jsonb), :by)"),
        {"level": req.level, "kind": req.period.kind, "s": req.period.start, "e": req.period.end,
         "scope": req.scope or "", "sid": out["scheme"]["id"], "scheme": json.dumps(out["scheme"]),
         "rows": json.dumps(out["rows"]), "by": user_id or None})
    return await published(session, req) or out


async def explain(session: AsyncSession, req: Request, unit: str) -> dict[str, Any]:
    """One unit: each index's numerator and denominator with the incidents behind them (one query of the unit's
    fact rows; the sums are those of the same rows, so the counts and the lists agree)."""
    scheme = await in_force(session, level=req.level, on=req.period.start)
    params = _params(req) | {"unit": unit}
    rows = (await session.execute(text(ai.sums_sql(req.level, scoped=bool(req.scope), one_unit=True)),
                                  params)).mappings().first()
    if rows is None:
        raise InvalidInput(f"no figures for unit {unit!r} in this period", details=[{"field": "unit"}])
    s = {c: float(rows[c] or 0) for c in ai.COLUMNS}
    score, figures = index_figures(scheme, s, req.period.days)
    behind: dict[str, list[int]] = {c: [] for c in ai.COLUMNS if c not in ai.NOT_INCIDENTS}
    for r in (await session.execute(text(ai.unit_rows_sql(req.level, scoped=bool(req.scope))), params)).mappings():
        for c, listed in behind.items():
            if (r[c] or 0) > 0 and (not listed or listed[-1] != r["incident_id"]) and len(listed) < MAX_IDS:
                listed.append(int(r["incident_id"]))

    def ids(column: str | None) -> list[int] | None:
        return None if column is None or column in ai.NOT_INCIDENTS else behind[column]

    for code, fig in figures.items():
        index = ai.BY_CODE[code]
        fig["num_ids"] = ids(index.num)
        fig["den_ids"] = ids(index.den)
    label = await names(session, req.level, [unit])
    return {"level": req.level, "unit": unit, "name": label.get(unit, unit), "period": req.period.as_dict(),
            "scheme": scheme.as_dict(), "score": score, "indices": figures, "received_ids": ids("received")}
