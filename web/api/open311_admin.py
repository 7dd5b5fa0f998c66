"""/api/v1/admin/open311/clients: an administrator issues an Open311 client application its api_key (shown once),
lists the applications and turns one off or on. Admins only (docs/interop.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import Field

from command.intake.channels import open311_clients
from web.deps import Admin, SessionDep, SettingsDep
from web.openapi_errors import errors
from web.request_models import Body
from web.request_types import Integer, VisibleLine

router = APIRouter(prefix="/api/v1/admin/open311/clients", tags=["admin"])
ClientName = Annotated[str, Path(min_length=1, max_length=100, description="the client application's name")]


class ClientIn(Body):
    name: VisibleLine = Field(min_length=1, max_length=100, description="the client application, e.g. 市民通 app")
    rate_per_min: Integer | None = Field(None, ge=1, le=open311_clients.MAX_RATE,
                                         description="POSTs a minute; default GRIDCMD_OPEN311_CLIENT_RATE_PER_MIN")


class ActiveIn(Body):
    active: bool


@router.post("", status_code=201, responses=errors(409))
async def issue_client(body: ClientIn, principal: Admin, session: SessionDep,
                       settings: SettingsDep) -> dict[str, object]:
    """A new client application and its api_key: the key is in this answer only (kept as its SHA-256)."""
    issued = await open311_clients.issue(session, name=body.name, created_by=principal.user_id,
                                         rate_per_min=body.rate_per_min or settings.open311_client_rate_per_min)
    return {**open311_clients.describe(issued.client), "api_key": issued.api_key}


@router.get("")
async def list_clients(_: Admin, session: SessionDep) -> dict[str, object]:
    return {"clients": [open311_clients.describe(c) for c in await open311_clients.listing(session)]}


@router.patch("/{name}")
async def set_client_active(name: ClientName, body: ActiveIn, _: Admin, session: SessionDep) -> dict[str, object]:
    """Turn an application off (its key is refused at once, 403) or on again."""
    return open311_clients.describe(await open311_clients.set_active(session, name=name, active=body.active))
