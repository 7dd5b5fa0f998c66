"""GET /osmand?… straight to the OsmAnd decoder, ahead of FastAPI's routing, dependencies and middleware.

A GPS app's position report is the one request that arrives thousands of times a second (10,000 phones every 10 s
is 1,000/s; a province far more) and needs none of what the stack gives the other routes: no login, no body, no
transaction, nothing logged per report. Through the stack it cost ~0.39 ms of web CPU (docs/interop.md); here it
is the query parse, the device cache, the batcher and report.lua, as the in-process bench measures them.

Only `GET` of the two paths with a query string is taken here; a POST (a form or Traccar Client's JSON), or a GET
without a query, goes to web.api.osmand as before. The answers are the route's: 200 `{"stored": …}`; the app's
error shape for a control character (422, as the app-wide rule), a bad value (422) or an unbound device (400);
503 with Retry-After when Redis is down. The request-latency histogram is observed under the route's path. Not
here: an X-Request-ID on the answer (nothing is logged per report) and the body limit (a GET has no body)."""

from __future__ import annotations

import time
from functools import cache
from urllib.parse import parse_qsl

import orjson
from fastapi import FastAPI
from prometheus_client import Histogram
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from command.core import errors, telemetry
from command.intake.channels import osmand
from web.api.osmand import PATHS, device_directory
from web.errors import dependency_response, error_response
from web.request_types import line_control_problems

_STORED = {True: orjson.dumps({"stored": True}), False: orjson.dumps({"stored": False})}
_HEADERS = [(b"content-type", b"application/json")]


class OsmandFirstApp(FastAPI):
    """The app, answering GET /osmand?… itself before Starlette's middleware stack (its error middleware wraps every
    `send` of a request, and FastAPI's exception telemetry every call: a third of what is left of a report's web
    CPU at 10,000 reports/s, docs/interop.md). A bug here is uvicorn's plain 500, as the stack's would be."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or scope["method"] != "GET" or scope["path"] not in PATHS
                or not scope.get("query_string")):
            await super().__call__(scope, receive, send)
            return
        scope["app"] = self
        started = time.perf_counter()
        status = 200
        try:
            response = await _answer(self, scope)
            if isinstance(response, bytes):
                await send({"type": "http.response.start", "status": 200,
                            "headers": [*_HEADERS, (b"content-length", str(len(response)).encode())]})
                await send({"type": "http.response.body", "body": response})
            else:
                status = response.status_code
                await response(scope, receive, send)
        finally:
            _latency(scope["path"], status).observe(time.perf_counter() - started)


@cache
def _latency(path: str, status: int) -> Histogram:
    return telemetry.HTTP_LATENCY.labels(method="GET", route=path, status=str(status))


async def _answer(app: FastAPI, scope: Scope) -> bytes | Response:
    params = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
    try:
        if bad := line_control_problems("query", params):  # the app-wide rule, as refuse_control_characters
            raise errors.InvalidInput("request validation failed", details=bad)
        fix = osmand.from_query(dict(params))
        stored = await osmand.report(device_directory(app), app.state.redis, fix=fix, now=time.time())
    except errors.GridcmdError as exc:
        return error_response(exc)
    except Exception as exc:
        unavailable = dependency_response(exc, where=f"GET {scope['path']}")
        if unavailable is None:
            raise
        return unavailable
    return _STORED[bool(stored)]
