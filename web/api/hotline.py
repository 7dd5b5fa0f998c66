"""The 12345 platform link: POST /api/v1/hotline/12345/orders receives a signed work order
(X-Timestamp + X-Signature = HMAC-SHA256(secret, "{timestamp}." + body), replay window) and files it
through the one intake; admins keep the category mapping at /api/v1/hotline/12345/categories."""

from __future__ import annotations

import time
from typing import Any, Literal

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from command.core.errors import InvalidInput
from command.intake.channels import hotline12345, platform_mapping
from command.intake.channels.hotline_sign import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from command.orders.tracking import tracking_token
from web.deps import Admin, Operator, RedisDep, SessionDep, SettingsDep
from web.openapi_errors import errors
from web.request_types import Instant, Integer, Lat, Lon, SafeLine, VisibleText

router = APIRouter(prefix="/api/v1/hotline/12345", tags=["12345 platform"])


class Reporter(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: SafeLine | None = Field(None, max_length=100)
    phone: SafeLine | None = Field(None, max_length=32)


class WorkOrderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: SafeLine = Field(min_length=1, max_length=128)
    category: SafeLine = Field(min_length=1, max_length=64)
    description: VisibleText = Field(min_length=1, max_length=2000)
    lon: Lon
    lat: Lat
    crs: Literal["wgs84", "gcj02", "bd09"] = "wgs84"
    deadline: Instant
    priority: Integer | None = Field(None, ge=1, le=4)
    reporter: Reporter | None = None


class MappingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    their_code: SafeLine = Field(min_length=1, max_length=64)
    category_code: SafeLine = Field(min_length=1, max_length=64)


def _inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with its nested models inlined (an openapi_extra body cannot use $defs)."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return inline(defs[node["$ref"].rsplit("/", 1)[-1]])
            return {k: inline(v) for k, v in node.items()}
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    return inline(schema)


# The body is read raw (the signature covers its bytes) and parsed after the check, so it is documented by hand.
_RECEIVE_DOC = {
    "requestBody": {"required": True, "content": {"application/json": {"schema": _inline_schema(WorkOrderIn)}}},
    "parameters": [
        {"name": TIMESTAMP_HEADER, "in": "header", "required": True, "schema": {"type": "string"},
         "description": "unix seconds; outside the replay window: 401"},
        {"name": SIGNATURE_HEADER, "in": "header", "required": True, "schema": {"type": "string"},
         "description": 'hex HMAC-SHA256(secret, "{timestamp}." + body)'},
    ],
}


async def file_signed(request: Request, session: SessionDep, redis: RedisDep, settings: SettingsDep, *,
                      platform: str, mapping: platform_mapping.Mapping, secret: str) -> JSONResponse:
    """Every platform's inbound path: check the signature on the raw bytes, read their document through the
    platform's mapping into ours, validate it with the one model, file it through the one intake."""
    body = await request.body()
    # The signature covers the raw bytes: check it before parsing anything.
    verify(secret=secret, window_s=settings.hotline_replay_window_s,
           timestamp=request.headers.get(TIMESTAMP_HEADER), signature=request.headers.get(SIGNATURE_HEADER),
           body=body, now=time.time())
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput("invalid work order", details=[{"loc": [], "msg": f"invalid JSON: {exc}"}]) from exc
    try:
        wo = WorkOrderIn.model_validate(platform_mapping.inbound(mapping, document))
    except ValidationError as exc:
        raise InvalidInput("invalid work order", details=[
            {"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors(include_url=False)]) from exc
    submitted = await hotline12345.receive(session, redis, settings=settings, platform=platform,
                                           categories=mapping.categories, order=hotline12345.WorkOrder(
        id=wo.id, category=wo.category, description=wo.description, lon=wo.lon, lat=wo.lat, crs=wo.crs,
        deadline=wo.deadline, priority=wo.priority, reporter_name=wo.reporter.name if wo.reporter else None,
        reporter_phone=wo.reporter.phone if wo.reporter else None))
    incident = submitted.incident
    content = {"work_order_id": wo.id, "incident_id": incident.id, "public_id": str(incident.public_id),
               "status": incident.status, "created": submitted.created,
               "tracking_token": tracking_token(settings.secret_key, incident.public_id)}
    return JSONResponse(content, status_code=201 if submitted.created else 200)


@router.post("/orders", status_code=201, openapi_extra=_RECEIVE_DOC, responses={
    200: {"description": "a retry of a work order already received: the same incident"},
    **errors(400, 401, 403, 409, 413, 422)})
async def receive(request: Request, session: SessionDep,
                  redis: RedisDep, settings: SettingsDep) -> JSONResponse:
    return await file_signed(request, session, redis, settings, platform=hotline12345.KEY_SCOPE,
                             mapping=platform_mapping.BUILTIN[hotline12345.KEY_SCOPE], secret=settings.hotline_secret)


@router.get("/categories")
async def list_mappings(_: Operator,
                        session: SessionDep) -> dict:
    return {"categories": await hotline12345.mappings(session)}


@router.put("/categories")
async def put_mapping(body: MappingIn, _: Admin,
                      session: SessionDep) -> dict:
    await hotline12345.set_mapping(session, their_code=body.their_code, category_code=body.category_code)
    return {"their_code": body.their_code, "category_code": body.category_code}
