"""Open311 GeoReport v2 at /open311/v2 (discovery at /open311/discovery.{json,xml}): services, service
definitions, POST requests (form-encoded, with a client application's api_key and its own rate limit), GET requests
with the spec's filters, one request, a token. Every answer in the format the path names (.json or .xml), errors
as the spec's error list. The adapter behind it is command.intake.channels.open311 (docs/interop.md).

These routes are described by the Open311 specification itself, not by this app's OpenAPI document (their error
body is the spec's list, not the app's `ErrorResponse`)."""

from __future__ import annotations

import math
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.routing import APIRoute

from command.core import errors as E
from command.core.clock import utcnow
from command.intake.channels import open311, open311_clients, open311_reads
from command.intake.channels.open311_services import service, services
from web.api.open311_format import definition_record, errors, render, request_record, service_record
from web.deps import RedisDep, SessionDep, SettingsDep
from web.errors import Answered
from web.ratelimit import rate_limited
from web.request_types import IdempotencyKey, SafeLine

SPEC_URL = "http://wiki.open311.org/GeoReport_v2"
Fmt = Literal["json", "xml"]
MAX_IDS = 100
MAX_VALUE = 1000

# A domain error → the HTTP status the Open311 error list carries as its code.
STATUS: dict[type[E.GridcmdError], int] = {
    E.InvalidInput: 400, E.NotAuthenticated: 403, E.Forbidden: 403, E.NotFound: 404, E.Conflict: 409,
    E.TooLarge: 413, E.RateLimited: 429, E.Unavailable: 503,
}


def _status(exc: E.GridcmdError) -> int:
    return next((STATUS[c] for c in type(exc).__mro__ if c in STATUS), 400)


class Open311Route(APIRoute):
    """Refusals in the spec's shape and in the format the path asked for, whatever raised them (a dependency,
    the validation of a parameter, the adapter)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        inner = super().get_route_handler()

        async def handler(request: Request) -> Response:
            fmt = "xml" if request.path_params.get("fmt") == "xml" else "json"
            # Raised again as an answer, not returned: the transaction (web.deps) must see it to roll back.
            try:
                return await inner(request)
            except E.GridcmdError as exc:
                headers = None
                if isinstance(exc, E.RateLimited) and exc.retry_after_s is not None:
                    headers = {"Retry-After": str(exc.retry_after_s)}
                raise Answered(errors(fmt, _status(exc), [exc.message], headers)) from exc
            except RequestValidationError as exc:
                raise Answered(errors(fmt, 400, [
                    f"{'.'.join(str(p) for p in e.get('loc', ()) if p != 'path')}: {e.get('msg')}"
                    for e in exc.errors()])) from exc

        return handler


router = APIRouter(prefix="/open311", tags=["Open311"], route_class=Open311Route, include_in_schema=False)
_read_limit = rate_limited("open311-read", lambda r: r.app.state.settings.open311_read_rate_per_min)
Read = [Depends(_read_limit)]
FmtPath = Annotated[Fmt, Path()]
Code = Annotated[SafeLine, Path(max_length=64)]
RequestId = Annotated[SafeLine, Path(max_length=20)]
Jurisdiction = Annotated[SafeLine | None, Query(max_length=64)]
Codes = Annotated[SafeLine | None, Query(max_length=2000, description="comma separated")]
W3C = Annotated[SafeLine | None, Query(max_length=64, description="W3C date-time, e.g. 2010-01-01T00:00:00Z")]
Locale = Annotated[Literal["zh", "zh-CN", "en"], Query()]


@router.get("/discovery.{fmt}", dependencies=Read)
async def discovery(request: Request, fmt: FmtPath) -> Response:
    base = str(request.base_url).rstrip("/")
    body = {"changeset": "2026-12-07T00:00:00+08:00", "contact": "网格化管理指挥中心 grid command centre",
            "key_service": "api_key: issued per client application by an administrator",
            "endpoints": [{"specification": SPEC_URL, "url": f"{base}/open311/v2", "changeset":
                           "2026-12-07T00:00:00+08:00", "type": "production",
                           "formats": ["application/json", "text/xml"]}]}
    return render(fmt, "discovery", None, body)


def _lang(locale: str) -> str:
    return "en" if locale == "en" else "zh"


@router.get("/v2/services.{fmt}", dependencies=Read)
async def list_services(fmt: FmtPath, session: SessionDep, settings: SettingsDep, locale: Locale = "zh",
                        jurisdiction_id: Jurisdiction = None) -> Response:
    open311.check_jurisdiction(settings, jurisdiction_id)
    return render(fmt, "services", "service",
                  [service_record(s) for s in await services(session, locale=_lang(locale))])


@router.get("/v2/services/{service_code}.{fmt}", dependencies=Read)
async def service_definition(service_code: Code, fmt: FmtPath, session: SessionDep, settings: SettingsDep,
                             locale: Locale = "zh", jurisdiction_id: Jurisdiction = None) -> Response:
    open311.check_jurisdiction(settings, jurisdiction_id)
    svc = await service(session, service_code, locale=_lang(locale))
    if svc is None:
        raise E.NotFound(f"service_code {service_code!r} not found")
    return render(fmt, "service_definition", None, definition_record(svc))


def _one(form: dict[str, str], name: str) -> str | None:
    value = form.get(name)
    if value is None or value.strip() == "":
        return None
    if len(value) > MAX_VALUE * 4:
        raise E.InvalidInput(f"{name} is too long")
    return value


def _coordinate(form: dict[str, str], name: str) -> float | None:
    value = _one(form, name)
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError as exc:
        raise E.InvalidInput(f"{name} must be a number (WGS-84 degrees), not {value[:40]!r}") from exc
    if not math.isfinite(number):
        raise E.InvalidInput(f"{name} must be a finite number")
    return number


def _attributes(form: dict[str, str]) -> dict[str, str]:
    out = {}
    for key, value in form.items():
        if key.startswith("attribute[") and key.endswith("]"):
            code = key[len("attribute["):-1]
            if not 0 < len(code) <= 64 or len(value) > MAX_VALUE:
                raise E.InvalidInput(f"{key[:80]}: attribute codes are 1-64 characters, values at most {MAX_VALUE}")
            out[code] = value
    return out


@router.post("/v2/requests.{fmt}")
async def post_request(request: Request, fmt: FmtPath, session: SessionDep, redis: RedisDep, settings: SettingsDep,
                       idempotency_key: Annotated[IdempotencyKey | None, Header(alias="Idempotency-Key")] = None
                       ) -> Response:
    form = {k: v for k, v in (await request.form()).multi_items() if isinstance(v, str)}
    client = await open311_clients.authenticate(session, form.get("api_key"))
    await open311_clients.take_request(redis, client)
    service_code = _one(form, "service_code")
    if service_code is None:
        raise E.InvalidInput("service_code is required")
    req = open311.ServiceRequestIn(
        service_code=service_code, lat=_coordinate(form, "lat"), long=_coordinate(form, "long"),
        attributes=_attributes(form), **{name: _one(form, name) for name in (
            "address_string", "address_id", "zipcode", "description", "email", "device_id", "account_id",
            "first_name", "last_name", "phone", "media_url", "jurisdiction_id")})
    filed = await open311.file_request(session, redis, client=client, req=req, settings=settings,
                                       idempotency_key=idempotency_key)
    answer = {"service_request_id": str(filed.incident.id), "token": filed.token,
              "service_notice": "已受理，已定位并派单 received, located and dispatched"}
    if req.account_id:  # the Swagger description types it as a string: absent rather than null
        answer["account_id"] = req.account_id
    return render(fmt, "service_requests", "request", [answer],
                  headers=None if filed.created else {"Idempotent-Replayed": "true"})


def _ids(value: str | None) -> tuple[int, ...]:
    if not value:
        return ()
    parts = [p.strip() for p in value.split(",") if p.strip()]
    if len(parts) > MAX_IDS or not all(p.isdigit() and 0 < int(p) < 2**63 for p in parts):
        raise E.InvalidInput(f"service_request_id: up to {MAX_IDS} request ids, comma separated")
    return tuple(int(p) for p in parts)


def _instant(name: str, value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError as exc:
        raise E.InvalidInput(f"{name} must be a W3C date-time, e.g. 2010-01-01T00:00:00Z") from exc
    if at.tzinfo is None:
        raise E.InvalidInput(f"{name} needs a time zone (Z or ±hh:mm)")
    return at


def _statuses(value: str | None) -> tuple[str, ...]:
    parts = tuple(p.strip() for p in (value or "").split(",") if p.strip())
    if any(p not in ("open", "closed") for p in parts):
        raise E.InvalidInput("status must be open, closed, or both comma separated")
    return parts


async def _find(session: SessionDep, settings: SettingsDep, q: open311_reads.Query) -> list[dict[str, Any]]:
    records = await open311_reads.find(session, q, now=utcnow(), limit=settings.open311_max_results,
                                       tz=ZoneInfo(settings.timezone))
    return [request_record(r) for r in records]


@router.get("/v2/requests.{fmt}", dependencies=Read)
async def get_requests(fmt: FmtPath, session: SessionDep, settings: SettingsDep,
                       service_request_id: Codes = None, service_code: Codes = None,
                       start_date: W3C = None, end_date: W3C = None, status: Codes = None,
                       jurisdiction_id: Jurisdiction = None) -> Response:
    q = open311_reads.Query(
        ids=_ids(service_request_id), statuses=_statuses(status),
        service_codes=tuple(c.strip() for c in (service_code or "").split(",") if c.strip()),
        start=_instant("start_date", start_date), end=_instant("end_date", end_date),
        jurisdiction=open311.check_jurisdiction(settings, jurisdiction_id))
    return render(fmt, "service_requests", "request", await _find(session, settings, q))


@router.get("/v2/requests/{service_request_id}.{fmt}", dependencies=Read)
async def get_request(service_request_id: RequestId, fmt: FmtPath, session: SessionDep, settings: SettingsDep,
                      jurisdiction_id: Jurisdiction = None) -> Response:
    ids = _ids(service_request_id)
    q = open311_reads.Query(ids=ids[:1], jurisdiction=open311.check_jurisdiction(settings, jurisdiction_id))
    found = await _find(session, settings, q)
    if not found:
        raise E.NotFound(f"service request {service_request_id!r} not found")
    return render(fmt, "service_requests", "request", found)


@router.get("/v2/tokens/{token}.{fmt}", dependencies=Read)
async def get_token(token: Code, fmt: FmtPath, session: SessionDep, settings: SettingsDep,
                    jurisdiction_id: Jurisdiction = None) -> Response:
    open311.check_jurisdiction(settings, jurisdiction_id)
    incident_id = await open311_reads.by_token(session, token)
    if incident_id is None:
        raise E.NotFound("token not found")
    return render(fmt, "service_requests", "request", [{"service_request_id": str(incident_id), "token": token}])
