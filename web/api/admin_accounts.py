"""/api/v1/admin/users: the Accounts tab of /admin — list, create (with a grid worker's kind, grids, phone, max
load and duty hours), edit, reset a password, bulk import from XLSX/CSV (per-row report, all or nothing). Role,
scope, disable/enable and ending sessions are web.api.admin_users. Every write is audited."""

from __future__ import annotations

from datetime import time
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Query, UploadFile
from pydantic import Field

from command.admin import account_import, audit, people_admin
from command.admin.account_admin import set_password
from command.core.errors import InvalidInput
from command.core.models import User, Worker
from command.core.security import Principal
from web.deps import Admin, SessionDep
from web.openapi_errors import errors
from web.request_models import Body
from web.request_types import Id32, Integer, SafeLine

router = APIRouter(prefix="/api/v1/admin/users", tags=["admin"])

Code = Annotated[SafeLine, Field(min_length=1, max_length=64)]
Phone = Annotated[SafeLine, Field(max_length=32, pattern=r"^[0-9+\-() ]*$")]


class WorkerIn(Body):
    kind: Literal["leader", "fulltime", "parttime", "micro"] = "fulltime"
    grid_codes: list[Code] = Field(min_length=1, max_length=50)
    max_load: Integer = Field(2, ge=1, le=50)
    shift_start: time | None = None
    shift_end: time | None = None

    def spec(self) -> people_admin.WorkerSpec:
        return people_admin.WorkerSpec(kind=self.kind, grid_codes=list(self.grid_codes), max_load=self.max_load,
                                       shift_start=self.shift_start, shift_end=self.shift_end)


class AccountIn(Body):
    username: Code
    password: SafeLine = Field(min_length=6, max_length=128)
    role: Literal["admin", "supervisor", "operator", "worker", "liaison"]
    display_name: SafeLine | None = Field(None, min_length=1, max_length=100)
    phone: Phone | None = None
    region_code: Code | None = None
    department_code: Code | None = None
    worker: WorkerIn | None = None


class EditIn(Body):
    display_name: SafeLine | None = Field(None, min_length=1, max_length=100)
    phone: Phone | None = None
    worker: WorkerIn | None = None
    petition_role: Literal["staff", "leader", ""] | None = Field(
        None, description="信访 duty: staff (operators, supervisors) or leader (supervisors, 领导包案); \"\" clears it")


class PasswordIn(Body):
    password: SafeLine = Field(min_length=6, max_length=128)


def account_out(user: User, worker: Worker | None) -> dict:
    return {"id": user.id, "username": user.username, "display_name": user.display_name, "phone": user.phone,
            "role": user.role, "region_code": user.region_code, "department_code": user.department_code,
            "active": user.active, "petition_role": user.petition_role,
            "worker": None if worker is None else {
                "id": worker.id, "kind": worker.kind, "kind_zh": people_admin.WORKER_KINDS.get(worker.kind),
                "grid_codes": list(worker.grid_codes or []), "max_load": worker.max_load,
                "shift_start": worker.shift_start.isoformat("minutes") if worker.shift_start else None,
                "shift_end": worker.shift_end.isoformat("minutes") if worker.shift_end else None}}


@router.get("")
async def list_accounts(principal: Admin, session: SessionDep,
                        role: Annotated[Literal["admin", "supervisor", "operator", "worker", "liaison"] | None,
                                        Query()] = None,
                        q: Annotated[SafeLine | None, Query(max_length=64)] = None) -> dict:
    rows = await people_admin.list_accounts(session, principal, role=role, search=q)
    return {"users": [account_out(u, w) for u, w in rows], "worker_kinds": people_admin.WORKER_KINDS}


@router.post("", status_code=201, responses=errors(409))
async def create(body: AccountIn, principal: Admin, session: SessionDep) -> dict:
    spec = people_admin.AccountSpec(
        username=body.username, password=body.password, role=body.role, display_name=body.display_name,
        phone=body.phone, region_code=body.region_code, department_code=body.department_code,
        worker=body.worker.spec() if body.worker else None)
    user, worker = await people_admin.create_account(session, principal, spec)
    await audit.record(session, principal=principal, action="create", entity="user", entity_id=user.id,
                       after=people_admin.snapshot(user, worker), region_code=user.region_code)
    return account_out(user, worker)


@router.patch("/{user_id}")
async def edit(user_id: Id32, body: EditIn, principal: Admin, session: SessionDep) -> dict:
    user, worker = await people_admin.account(session, principal, user_id)
    before = people_admin.snapshot(user, worker)
    user, worker = await people_admin.edit_account(session, principal, user_id, display_name=body.display_name,
                                                   phone=body.phone, worker=body.worker.spec() if body.worker else None,
                                                   petition_role=body.petition_role)
    await audit.record(session, principal=principal, action="edit", entity="user", entity_id=user.id,
                       before=before, after=people_admin.snapshot(user, worker), region_code=user.region_code)
    return account_out(user, worker)


@router.post("/{user_id}/password")
async def reset_password(user_id: Id32, body: PasswordIn, principal: Admin, session: SessionDep) -> dict:
    """A new password; every token of the account stops at once. The log says it was reset, never the password."""
    await people_admin.account(session, principal, user_id)  # scope
    user = await set_password(session, user_id=user_id, password=body.password)
    await audit.record(session, principal=principal, action="reset_password", entity="user", entity_id=user.id,
                       region_code=user.region_code)
    return {"id": user.id, "token_version": user.token_version}


async def _import(principal: Principal, session: SessionDep, file: UploadFile, dry_run: bool) -> dict:
    data = await file.read()
    if not data:
        raise InvalidInput("the file is empty")
    rows = account_import.read_sheet(data, file.filename or "")
    report, users = await account_import.import_accounts(session, principal, rows, dry_run=dry_run)
    for user, worker in users:
        await audit.record(session, principal=principal, action="import", entity="user", entity_id=user.id,
                           after=people_admin.snapshot(user, worker), region_code=user.region_code)
    out = {"ok": report.ok, "written": report.written, "rows": [
        {"row": r.row, "username": r.username, "ok": r.ok, "error": r.error, "initial_password": r.initial_password}
        for r in report.rows]}
    if not report.ok:
        raise InvalidInput(f"{sum(not r.ok for r in report.rows)} row(s) refused; nothing was imported", details=out)
    return out


@router.post("/import", responses=errors(409))
async def import_sheet(file: UploadFile, principal: Admin, session: SessionDep,
                       dry_run: Annotated[bool, Form()] = False) -> dict:
    """Accounts from an XLSX or CSV sheet (columns in command.admin.account_import): every row checked and reported;
    all written only when every row is good (422 with the per-row report otherwise, nothing written)."""
    return await _import(principal, session, file, dry_run)
