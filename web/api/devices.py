"""GPS app device ids bound to workers (command.assign.devices): an admin binds any device to any worker
(/api/v1/admin/devices), a worker binds their own phone from /m (/api/v1/workers/me/devices)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field

from command.assign import devices
from command.core import txhooks
from command.core.errors import Forbidden
from command.core.security import Principal
from geo.coords import Crs
from web.api.osmand import device_directory
from web.deps import Admin, SessionDep, Worker
from web.openapi_errors import errors
from web.request_models import Body

admin_router = APIRouter(prefix="/api/v1/admin/devices", tags=["admin"])
worker_router = APIRouter(prefix="/api/v1/workers/me/devices", tags=["workers"])

DeviceId = Annotated[str, Path(min_length=1, max_length=64, pattern=devices.DEVICE_ID.pattern,
                               description="the id the GPS app sends (OsmAnd `id`, Traccar Client `device_id`)")]


class BindingOut(BaseModel):
    device_id: str
    worker_id: int
    datum: str


class AdminBind(Body):
    worker_id: int = Field(ge=1, le=2**31 - 1)
    datum: Crs = Field(Crs.wgs84, description="the datum of the app's coordinates: wgs84 for GPS apps")


def _out(b: devices.Binding) -> BindingOut:
    return BindingOut(device_id=b.device_id, worker_id=b.worker_id, datum=b.datum)


def _forget_after_commit(request: Request, session: SessionDep, device_id: str) -> None:
    directory = device_directory(request.app)

    async def forget() -> None:
        directory.forget(device_id)

    txhooks.on_commit(session, forget)


def _own(principal: Principal) -> int:
    if principal.worker_id is None:
        raise Forbidden("this account has no grid worker record")
    return principal.worker_id


@admin_router.get("")
async def list_devices(_: Admin, session: SessionDep,
                       worker_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None) -> list[BindingOut]:
    return [_out(b) for b in await devices.list_bindings(session, worker_id=worker_id)]


@admin_router.put("/{device_id}", responses=errors(404))
async def admin_bind(device_id: DeviceId, body: AdminBind, request: Request, principal: Admin,
                     session: SessionDep) -> BindingOut:
    """Bind (or move) a device to a worker."""
    bound = await devices.bind(session, device_id=device_id, worker_id=body.worker_id, datum=body.datum.value,
                               by_user=principal.user_id)
    _forget_after_commit(request, session, device_id)
    return _out(bound)


@admin_router.delete("/{device_id}", status_code=204)
async def admin_unbind(device_id: DeviceId, request: Request, _: Admin, session: SessionDep) -> None:
    await devices.unbind(session, device_id=device_id)
    _forget_after_commit(request, session, device_id)


@worker_router.get("")
async def my_devices(principal: Worker, session: SessionDep) -> list[BindingOut]:
    return [_out(b) for b in await devices.list_bindings(session, worker_id=_own(principal))]


@worker_router.put("/{device_id}", responses=errors(409))
async def bind_mine(device_id: DeviceId, request: Request, principal: Worker, session: SessionDep) -> BindingOut:
    """Bind my phone's GPS app (its coordinates in WGS-84); a device bound to another worker is a conflict."""
    bound = await devices.bind(session, device_id=device_id, worker_id=_own(principal), by_user=principal.user_id,
                               own_only=True)
    _forget_after_commit(request, session, device_id)
    return _out(bound)


@worker_router.delete("/{device_id}", status_code=204)
async def unbind_mine(device_id: DeviceId, request: Request, principal: Worker, session: SessionDep) -> None:
    await devices.unbind(session, device_id=device_id, worker_id=_own(principal))
    _forget_after_commit(request, session, device_id)
