"""Bulk import of accounts (grid workers, liaisons, operators) from an XLSX or CSV sheet: every row is checked
first and reported (row number, username, ok or the reason); only when every row is good are they all written, in
one savepoint of the caller's transaction (all or nothing).

Columns, by header (English or Chinese): username/用户名, password/密码 (blank: a random initial password, shown in
the report once), name/姓名, phone/电话, role/角色 (default worker), region/区域, department/部门, kind/类型 (leader,
fulltime, parttime, micro or 网格长, 专职网格员, 兼职网格员, 微网格员), grids/网格 (codes separated by commas),
max_load/最大负载, duty_hours/值班时间 (HH:MM-HH:MM)."""

from __future__ import annotations

import asyncio
import csv
import io
import secrets
from dataclasses import dataclass, field
from datetime import time
from typing import Any

from openpyxl import load_workbook
from sqlalchemy.ext.asyncio import AsyncSession

from command.admin.people_admin import WORKER_KINDS, AccountSpec, WorkerSpec, check_account, create_account
from command.core.errors import GridcmdError, InvalidInput
from command.core.models import User, Worker
from command.core.security import Principal, hash_password

MAX_ROWS = 5000
HEADERS = {
    "username": "username", "用户名": "username", "账号": "username",
    "password": "password", "密码": "password",
    "name": "display_name", "display_name": "display_name", "姓名": "display_name",
    "phone": "phone", "电话": "phone", "手机": "phone",
    "role": "role", "角色": "role",
    "region": "region_code", "region_code": "region_code", "区域": "region_code",
    "department": "department_code", "department_code": "department_code", "部门": "department_code",
    "kind": "kind", "类型": "kind", "网格员类型": "kind",
    "grids": "grid_codes", "grid_codes": "grid_codes", "网格": "grid_codes",
    "max_load": "max_load", "最大负载": "max_load",
    "duty_hours": "duty_hours", "值班时间": "duty_hours",
}
_KIND_BY_NAME = {v: k for k, v in WORKER_KINDS.items()}


@dataclass(slots=True)
class RowReport:
    row: int
    username: str | None
    ok: bool
    error: str | None = None
    initial_password: str | None = None


@dataclass(slots=True)
class ImportReport:
    rows: list[RowReport] = field(default_factory=list)
    written: bool = False

    @property
    def ok(self) -> bool:
        return bool(self.rows) and all(r.ok for r in self.rows)


def read_sheet(data: bytes, filename: str) -> list[dict[str, str]]:
    """The rows of the first sheet (XLSX) or the CSV, keyed by known headers; InvalidInput for an unreadable file."""
    try:
        if filename.lower().endswith(".csv"):
            text = data.decode("utf-8-sig")
            raw = list(csv.reader(io.StringIO(text)))
        else:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            sheet = book.worksheets[0]
            raw = [["" if c is None else str(c) for c in row] for row in sheet.iter_rows(values_only=True)]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InvalidInput(f"cannot read the CSV file: {exc}") from exc
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise InvalidInput(f"cannot read the file as XLSX or CSV: {type(exc).__name__}") from exc
    if not raw:
        raise InvalidInput("the sheet is empty")
    header = [HEADERS.get(h.strip().lower(), HEADERS.get(h.strip())) for h in raw[0]]
    if "username" not in header:
        raise InvalidInput("no username (用户名) column in the first row")
    unknown = [h for h, k in zip(raw[0], header, strict=True) if k is None and h.strip()]
    if unknown:
        raise InvalidInput(f"unknown columns: {', '.join(unknown)}")
    rows = [{k: str(v).strip() for k, v in zip(header, line, strict=False) if k is not None}
            for line in raw[1:] if any(str(v).strip() for v in line)]
    if len(rows) > MAX_ROWS:
        raise InvalidInput(f"at most {MAX_ROWS} rows per import, not {len(rows)}")
    return rows


def _time(text: str) -> time:
    try:
        return time.fromisoformat(text.strip())
    except ValueError as exc:
        raise InvalidInput(f"not a time of day: {text!r}") from exc


def spec_of(row: dict[str, str]) -> tuple[AccountSpec, bool]:
    """An account from one row (and whether its password was generated)."""
    role = row.get("role") or "worker"
    password = row.get("password") or ""
    generated = not password
    worker = None
    if role == "worker":
        kind = row.get("kind") or "fulltime"
        start = end = None
        if hours := row.get("duty_hours"):
            if "-" not in hours:
                raise InvalidInput(f"duty hours must read HH:MM-HH:MM, not {hours!r}")
            a, b = hours.split("-", 1)
            start, end = _time(a), _time(b)
        load = row.get("max_load") or "2"
        if not load.removesuffix(".0").isdigit():
            raise InvalidInput(f"max load must be a whole number, not {load!r}")
        grids = [c.strip() for c in (row.get("grid_codes") or "").replace("，", ",").replace("、", ",").split(",")]
        worker = WorkerSpec(kind=_KIND_BY_NAME.get(kind, kind), grid_codes=[c for c in grids if c],
                            max_load=int(load.removesuffix(".0")), shift_start=start, shift_end=end)
    spec = AccountSpec(username=row.get("username", ""), password=password or secrets.token_urlsafe(9), role=role,
                       display_name=row.get("display_name") or None, phone=row.get("phone") or None,
                       region_code=row.get("region_code") or None,
                       department_code=row.get("department_code") or None, worker=worker)
    return spec, generated


async def import_accounts(session: AsyncSession, principal: Principal, rows: list[dict[str, Any]],
                          *, dry_run: bool = False) -> tuple[ImportReport, list[tuple[User, Worker | None]]]:
    """Check every row; write them all (one savepoint) only when none fails and this is not a dry run."""
    report = ImportReport()
    specs: list[tuple[int, AccountSpec]] = []
    seen: set[str] = set()
    for n, row in enumerate(rows, start=2):  # sheet row numbers: the header is row 1
        username = row.get("username") or None
        try:
            spec, generated = spec_of(row)
            if spec.username in seen:
                raise InvalidInput(f"username {spec.username!r} appears twice in the file")
            seen.add(spec.username)
            await check_account(session, principal, spec)
        except GridcmdError as exc:
            report.rows.append(RowReport(n, username, False, exc.message))
            continue
        report.rows.append(RowReport(n, username, True, initial_password=spec.password if generated else None))
        specs.append((n, spec))
    if not report.ok or dry_run:
        return report, []
    hashes = await asyncio.gather(*(asyncio.to_thread(hash_password, s.password) for _, s in specs))
    users = []
    async with session.begin_nested():
        for (_, spec), hashed in zip(specs, hashes, strict=True):
            users.append(await create_account(session, principal, spec, password_hash=hashed))
    report.written = True
    return report, users
