"""Assessment schemes (考核方案): which indices count, with what weight and direction, per unit level.

A scheme is versioned: an admin's edit inserts a new version with the day it takes effect (`effective_from`), and
nothing is ever updated, so the scheme of a period is the latest version in force on its first day. Without any
stored version the documented default below applies (docs/assessment.md)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from command.core.errors import InvalidInput
from command.reports.assessment_indices import BY_CODE, REGION_LEVELS, check_level

MAX_INDICES = 20


@dataclass(frozen=True)
class Weighted:
    code: str
    weight: float
    direction: str  # up | down
    target: float | None = None  # a quantity's target per day


@dataclass(frozen=True)
class Scheme:
    level: str
    name: str
    effective_from: date
    indices: tuple[Weighted, ...]
    id: int | None = None  # None: the built-in default
    note: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "level": self.level, "name": self.name,
                "effective_from": self.effective_from.isoformat(), "note": self.note,
                "indices": [asdict(w) for w in self.indices]}


def _w(code: str, weight: float, target: float | None = None) -> Weighted:
    return Weighted(code, weight, BY_CODE[code].direction, target)


_REGION_DEFAULT = (_w("on_time_disposal_rate", 25), _w("disposal_rate", 15), _w("close_rate", 15),
                   _w("on_time_sign_rate", 10), _w("sign_rate", 5), _w("rework_rate", 10), _w("overdue_rate", 10),
                   _w("satisfaction_rate", 5), _w("callback_rate", 3), _w("supervision_count", 2))
_DEPARTMENT_DEFAULT = (_w("on_time_sign_rate", 15), _w("sign_rate", 10), _w("on_time_disposal_rate", 25),
                       _w("disposal_rate", 15), _w("rework_rate", 10), _w("overdue_rate", 10), _w("close_rate", 5),
                       _w("satisfaction_rate", 5), _w("callback_rate", 3), _w("supervision_count", 2))
_WORKER_DEFAULT = (_w("sign_rate", 5), _w("on_time_sign_rate", 10), _w("on_time_disposal_rate", 20),
                   _w("disposal_rate", 10), _w("rework_rate", 10), _w("overdue_rate", 5), _w("close_rate", 5),
                   _w("satisfaction_rate", 5), _w("supervision_count", 5), _w("duty_hours", 10, 8.0),
                   _w("patrol_km", 10, 10.0), _w("self_found", 5, 1.0))
DEFAULT_FROM = date(2000, 1, 1)


def default_scheme(level: str) -> Scheme:
    check_level(level)
    indices = (_REGION_DEFAULT if level in REGION_LEVELS
               else _DEPARTMENT_DEFAULT if level == "department" else _WORKER_DEFAULT)
    return Scheme(level, "默认方案 Default (CJ/T 292 style)", DEFAULT_FROM, indices)


def validate(level: str, indices: list[dict[str, Any]]) -> tuple[Weighted, ...]:
    """The indices of a new version, or InvalidInput naming the first broken rule."""
    check_level(level)
    if not indices or len(indices) > MAX_INDICES:
        raise InvalidInput(f"a scheme has 1 to {MAX_INDICES} indices", details=[{"field": "indices"}])
    out: list[Weighted] = []
    seen: set[str] = set()
    for n, item in enumerate(indices):
        where = [{"field": f"indices[{n}]"}]
        code = item.get("code")
        index = BY_CODE.get(str(code))
        if index is None:
            raise InvalidInput(f"unknown index {code!r}", details=where)
        if level not in index.levels:
            raise InvalidInput(f"index {code!r} does not apply to level {level!r}", details=where)
        if code in seen:
            raise InvalidInput(f"index {code!r} appears twice", details=where)
        seen.add(index.code)
        weight = float(item.get("weight", 0))
        if not 0 < weight <= 1000:
            raise InvalidInput("weight must be above 0 and at most 1000", details=where)
        direction = item.get("direction") or index.direction
        if direction not in ("up", "down"):
            raise InvalidInput("direction must be up or down", details=where)
        target = item.get("target")
        if index.kind == "quantity":
            if target is None or not 0 < float(target) <= 1e6:
                raise InvalidInput(f"quantity index {code!r} needs a target per day above 0", details=where)
            target = float(target)
        elif target is not None:
            raise InvalidInput(f"rate index {code!r} takes no target", details=where)
        out.append(Weighted(index.code, weight, direction, target))
    return tuple(out)


def _from_row(row: Any, extra: dict[str, Any] | None = None) -> Scheme:
    items = row["indices"] if isinstance(row["indices"], list) else json.loads(row["indices"])
    return Scheme(row["level"], row["name"], row["effective_from"], tuple(Weighted(**w) for w in items),
                  id=row["id"], note=row["note"], extra=extra or {})


async def add_version(session: AsyncSession, *, level: str, name: str, effective_from: date,
                      indices: list[dict[str, Any]], note: str | None, user_id: int | None) -> Scheme:
    checked = validate(level, indices)
    row = (await session.execute(text(
        "INSERT INTO assessment_schemes (level, name, effective_from, indices, note, created_by) "
        "VALUES (:level, :name, :from, CAST(:indices AS jsonb), :note, :by) "
        "RETURNING id, level, name, effective_from, indices, note"),
        {"level": level, "name": name, "from": effective_from, "note": note, "by": user_id or None,
         "indices": json.dumps([asdict(w) for w in checked])})).mappings().one()
    return _from_row(row)


async def in_force(session: AsyncSession, *, level: str, on: date) -> Scheme:
    """The version of `level`'s scheme in force on `on` (the latest effective by then; the later id on a tie)."""
    check_level(level)
    row = (await session.execute(text(
        "SELECT id, level, name, effective_from, indices, note FROM assessment_schemes "
        "WHERE level = :level AND effective_from <= :on ORDER BY effective_from DESC, id DESC LIMIT 1"),
        {"level": level, "on": on})).mappings().first()
    return _from_row(row) if row else default_scheme(level)


async def versions(session: AsyncSession, *, level: str) -> list[Scheme]:
    """Every version of `level`'s scheme, the built-in default first; `extra` holds who stored each and when."""
    check_level(level)
    rows = (await session.execute(text(
        "SELECT s.id, s.level, s.name, s.effective_from, s.indices, s.note, s.created_at, "
        "u.display_name AS created_by FROM assessment_schemes s LEFT JOIN users u ON u.id = s.created_by "
        "WHERE s.level = :level ORDER BY s.effective_from, s.id"), {"level": level})).mappings()
    return [default_scheme(level), *(_from_row(r, {"created_at": r["created_at"].isoformat(),
                                                   "created_by": r["created_by"]}) for r in rows)]
