"""The audit log of administrative changes: who, when, which entity, its state before and after.

Every write of the admin console records one entry in the same transaction as the change (so a rolled-back change
leaves no entry, and a committed one always has its entry). Entries are read with filters, limited to a region
admin's region, and exported as CSV or XLSX."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import orjson
from openpyxl import Workbook
from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from command.admin.admin_scope import admin_region, region_codes_under
from command.core.models import AuditEntry
from command.core.security import Principal

EXPORT_COLUMNS = ("id", "at", "actor", "action", "entity", "entity_id", "region_code", "before", "after")
MAX_EXPORT = 50_000


def jsonable(value: Any) -> Any:
    """A value as JSON stores it (dates and times as ISO text, sets and tuples as lists)."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def snapshot(obj: object, fields: Iterable[str]) -> dict[str, Any]:
    """The named attributes of a row, JSON-ready (the before/after of an entry)."""
    return {f: jsonable(getattr(obj, f, None)) for f in fields}


async def record(session: AsyncSession, *, principal: Principal, action: str, entity: str, entity_id: object,
                 before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
                 region_code: str | None = None) -> AuditEntry:
    """One entry, in the caller's transaction."""
    entry = AuditEntry(actor_id=principal.user_id, actor=principal.username, action=action, entity=entity,
                       entity_id=str(entity_id), region_code=region_code, before=before, after=after)
    session.add(entry)
    await session.flush()
    return entry


@dataclass(frozen=True, slots=True)
class AuditFilter:
    entity: str | None = None
    entity_id: str | None = None
    actor: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def _query(principal: Principal, f: AuditFilter) -> Select[AuditEntry]:
    query = select(AuditEntry)
    if (region := admin_region(principal)) is not None:
        # A region admin reads the entries of their region's entities and their own.
        query = query.where(or_(AuditEntry.region_code.in_(region_codes_under(region)),
                                AuditEntry.actor_id == principal.user_id))
    for column, value in ((AuditEntry.entity, f.entity), (AuditEntry.entity_id, f.entity_id),
                          (AuditEntry.actor, f.actor), (AuditEntry.action, f.action)):
        if value is not None:
            query = query.where(column == value)
    if f.since is not None:
        query = query.where(AuditEntry.at >= f.since)
    if f.until is not None:
        query = query.where(AuditEntry.at < f.until)
    return query


async def entries(session: AsyncSession, *, principal: Principal, filters: AuditFilter, limit: int,
                  before_id: int | None = None) -> Sequence[AuditEntry]:
    """The newest entries first (page on with `before_id`, the last id seen)."""
    query = _query(principal, filters)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    return (await session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit))).all()


def entry_out(e: AuditEntry) -> dict[str, Any]:
    return {"id": e.id, "at": e.at.isoformat() if e.at else None, "actor": e.actor, "actor_id": e.actor_id,
            "action": e.action, "entity": e.entity, "entity_id": e.entity_id, "region_code": e.region_code,
            "before": e.before, "after": e.after}


def _cells(e: AuditEntry) -> list[Any]:
    row = entry_out(e)
    return [orjson.dumps(row[c]).decode() if c in ("before", "after") and row[c] is not None else row[c]
            for c in EXPORT_COLUMNS]


def to_csv(rows: Sequence[AuditEntry]) -> bytes:
    """UTF-8 with a byte-order mark, so spreadsheet programs read the Chinese text right."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    writer.writerows(_cells(e) for e in rows)
    return ("\ufeff" + out.getvalue()).encode()


def to_xlsx(rows: Sequence[AuditEntry]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("audit")
    sheet.append(list(EXPORT_COLUMNS))
    for e in rows:
        sheet.append(["" if v is None else v for v in _cells(e)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
