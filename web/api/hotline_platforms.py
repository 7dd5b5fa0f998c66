"""Further hotline platforms, each described by a mapping (command.intake.channels.platform_mapping): admins
keep a platform's mapping at /api/v1/hotline/platforms/{platform}/mapping; the platform posts its signed work
orders, in its own format, to /api/v1/hotline/platforms/{platform}/orders (secret: GRIDCMD_HOTLINE_PLATFORM_SECRETS).
The 12345 link keeps its own paths (web.api.hotline); its built-in mapping is readable here too."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse

from command.core.errors import Forbidden
from command.intake.channels import platform_mapping
from command.intake.channels.outbox import platform_secrets
from web.api.hotline import _RECEIVE_DOC, file_signed
from web.deps import Admin, Operator, RedisDep, SessionDep, SettingsDep
from web.openapi_errors import errors

router = APIRouter(prefix="/api/v1/hotline/platforms", tags=["12345 platform"])
Platform = Annotated[str, Path(pattern=platform_mapping.PLATFORM, description="the platform's name, e.g. js12345")]
_DOC = {**_RECEIVE_DOC, "requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "description": "the platform's own work order, read through its mapping"}}}}}


@router.post("/{platform}/orders", status_code=201, openapi_extra=_DOC, responses={
    200: {"description": "a retry of a work order already received: the same incident"},
    **errors(400, 401, 403, 409, 413, 422)})
async def receive(platform: Platform, request: Request, session: SessionDep, redis: RedisDep,
                  settings: SettingsDep) -> JSONResponse:
    mapping = await platform_mapping.load(session, platform)
    secret = settings.hotline_secret if platform in platform_mapping.BUILTIN else platform_secrets(settings).get(
        platform, "")
    if not secret:
        raise Forbidden(f"the {platform} platform link is not configured (no secret)")
    return await file_signed(request, session, redis, settings, platform=platform, mapping=mapping, secret=secret)


@router.get("/{platform}/mapping")
async def get_mapping(platform: Platform, _: Operator, session: SessionDep) -> dict[str, Any]:
    return (await platform_mapping.load(session, platform)).model_dump()


@router.put("/{platform}/mapping", responses=errors(422))
async def put_mapping(platform: Platform, document: platform_mapping.Mapping, _: Admin,
                      session: SessionDep) -> dict[str, Any]:
    """Create or replace a platform's mapping (the built-in 12345 one cannot be replaced); fields: docs/interop.md."""
    return (await platform_mapping.save(session, platform=platform, document=document.model_dump())).model_dump()
