"""Worker positions from GPS apps: the OsmAnd protocol (as the Traccar server accepts it) and Traccar Client's
JSON body, at /osmand and /api/v1/positions/osmand (command.intake.channels.osmand, docs/interop.md).

No login: like Traccar's port, the device id bound to a worker (command.assign.devices) is what identifies the
sender; an unbound id gets 400, as Traccar answers. The body limit of every request applies (web.middleware)."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qsl

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.applications import Starlette

from command.assign.devices import DeviceDirectory
from command.core.errors import InvalidInput
from command.intake.channels import osmand
from web.deps import RedisDep
from web.openapi_errors import errors

router = APIRouter(tags=["positions"])
PATHS = ("/osmand", "/api/v1/positions/osmand")


def device_directory(app: Starlette) -> DeviceDirectory:
    """This process's device cache (one per app; command.assign.devices)."""
    state = app.state
    found: DeviceDirectory | None = getattr(state, "gps_devices", None)
    if found is None:
        found = state.gps_devices = DeviceDirectory(state.sessionmaker, state.settings.gps_device_cache_s)
    return found


async def _fix(request: Request) -> osmand.Fix:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        try:
            body: Any = orjson.loads(await request.body())
        except orjson.JSONDecodeError as exc:
            raise InvalidInput(f"the body is not JSON: {exc}") from None
        return osmand.from_json(body)
    params = dict(request.query_params)
    if not params and request.method == "POST":  # Traccar reads a form-encoded body when the URL has no query
        if content_type.startswith("application/x-www-form-urlencoded"):
            # Parsed (and checked for control characters) by the app-wide dependency already: cached on the request.
            form = await request.form()
            params = {k: v for k, v in form.multi_items() if isinstance(v, str)}
        else:
            try:
                params = dict(parse_qsl((await request.body()).decode("ascii"), keep_blank_values=True))
            except UnicodeDecodeError:
                raise InvalidInput("a form-encoded body must be ASCII (percent-encoded)") from None
    return osmand.from_query(params)


async def _report(request: Request, redis: RedisDep) -> JSONResponse:
    fix = await _fix(request)
    stored = await osmand.report(device_directory(request.app), redis, fix=fix, now=time.time())
    return JSONResponse({"stored": stored})


_DOC = ("A position report of a GPS app: the OsmAnd protocol's query string (GET, or a form-encoded POST), or "
        "Traccar Client's JSON body. 200 once stored (or without a fix); 400 for a device id bound to no worker.")
for _path in PATHS:
    for _method in ("GET", "POST"):
        router.add_api_route(_path, _report, methods=[_method], description=_DOC, responses=errors(400, 413, 422),
                             summary="OsmAnd / Traccar Client position report",
                             operation_id=f"osmand_{_method.lower()}{_path.replace('/', '_')}")
