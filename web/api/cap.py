"""CAP 1.2 intake and its category table (command.intake.channels.cap, docs/interop.md).

POST /api/v1/cap: the XML as the body (application/cap+xml, application/xml or text/xml). 201 with what was done
(incident, the grids the area touches and their workers); the same sender+identifier again answers 200 with the
first answer (Idempotent-Replayed). Warning feeds post with an operator account; an Update or Cancel acts only on
incidents within that account's region (403 otherwise)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from command.core.events import Actor
from command.intake.channels import cap, cap_categories
from web.deps import Admin, Operator, RedisDep, SessionDep, SettingsDep
from web.openapi_errors import errors, replayed
from web.request_models import Body

router = APIRouter(prefix="/api/v1", tags=["cap"])
admin_router = APIRouter(prefix="/api/v1/admin/cap-categories", tags=["admin"])
XML_TYPES = ("application/cap+xml", "application/xml", "text/xml")


_DOC = {"requestBody": {"required": True, "content": {t: {"schema": {"type": "string"}} for t in XML_TYPES}}}


@router.post("/cap", status_code=201, openapi_extra=_DOC,
             responses=replayed("the same sender+identifier again: the first answer") | errors(403, 413, 415, 422))
async def post_cap(request: Request, principal: Operator, session: SessionDep, redis: RedisDep,
                   settings: SettingsDep) -> JSONResponse:
    """Take one CAP 1.2 message: validated against the OASIS schema (refused with the validator's message), located
    (the area's representative point; every grid it touches listed) and acted on by msgType and status."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in XML_TYPES:
        raise HTTPException(415, f"send the CAP message as {', '.join(XML_TYPES)}")
    outcome = await cap.take(session, redis, xml=await request.body(), principal=principal,
                             actor=Actor(principal.username, principal.user_id), settings=settings)
    if not outcome.created:
        return JSONResponse(outcome.as_dict(), status_code=200, headers={"Idempotent-Replayed": "true"})
    return JSONResponse(outcome.as_dict(), status_code=201)


class MappingIn(Body):
    category_code: str = Field(min_length=1, max_length=64, pattern=r"^[\x21-\x7e]+$")
    priority: int | None = Field(None, ge=1, le=4)


class MappingOut(BaseModel):
    kind: str
    value: str
    category_code: str
    priority: int | None


Kind = Annotated[str, Path(pattern="^(event|category)$", description="event (checked first) or category")]
Value = Annotated[str, Path(min_length=1, max_length=128, description="the CAP event text or category")]


def _out(m: cap_categories.Mapping) -> MappingOut:
    return MappingOut(kind=m.kind, value=m.value, category_code=m.category_code, priority=m.priority)


@admin_router.get("")
async def list_mappings(_: Admin, session: SessionDep) -> list[MappingOut]:
    return [_out(m) for m in await cap_categories.list_all(session)]


@admin_router.put("/{kind}/{value}")
async def put_mapping(kind: Kind, value: Value, body: MappingIn, _: Admin, session: SessionDep) -> MappingOut:
    return _out(await cap_categories.put(session, kind=kind, value=value, category_code=body.category_code,
                                         priority=body.priority))


@admin_router.delete("/{kind}/{value}", status_code=204)
async def delete_mapping(kind: Kind, value: Value, _: Admin, session: SessionDep) -> None:
    await cap_categories.remove(session, kind=kind, value=value)
