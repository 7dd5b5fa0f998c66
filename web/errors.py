"""One error → status table, registered once on the app."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from command.core import errors, outage
from command.core.request_keys import Replayed
from geo.errors import GeoInputError

STATUS: dict[type[errors.GridcmdError], int] = {
    errors.InvalidInput: 422,
    errors.NotFound: 404,
    errors.IllegalTransition: 409,
    errors.Conflict: 409,
    errors.NotAuthenticated: 401,
    errors.Forbidden: 403,
    errors.TooLarge: 413,
    errors.RateLimited: 429,
    errors.Unavailable: 503,
}

# Statuses Starlette/FastAPI raise themselves (no route, wrong method, an unparsable multipart body…), as codes.
# A 404 here means no route (or no static file) at that URL: its own code, so a client tells "this server has no
# such endpoint" from a domain "no such incident" (not_found).
HTTP_CODES: dict[int, str] = {400: "bad_request", 401: "not_authenticated", 403: "forbidden", 404: "route_not_found",
                              405: "method_not_allowed", 406: "not_acceptable", 413: "too_large",
                              415: "unsupported_media_type", 422: "invalid_input", 429: "rate_limited",
                              503: "unavailable"}

POOL_TIMEOUT_MESSAGE = "the database is busy: no connection came free in time; try again"
# Every 503 says when to try again. A request refused this way changed nothing that was acknowledged: a retry
# with the same Idempotency-Key is safe (a write that did commit before the failure is answered as a replay).
RETRY_AFTER_S = 1
UNAVAILABLE_MESSAGES = {
    outage.POSTGRES: "the database is unavailable or did not answer in time; nothing was acknowledged: "
                     "try again (with the same Idempotency-Key)",
    outage.REDIS: "the live state (Redis) is unavailable or did not answer in time; try again",
}
# One line when a dependency fails, then a count every 10 s: not a traceback per request.
OUTAGES = outage.OUTAGES


def status_for(exc: errors.GridcmdError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def error_body(code: str, message: str, details: object | None = None) -> dict:
    body: dict = {"error": {"code": code, "message": message}}
    if details is not None:
        body["error"]["details"] = details
    return body


def unavailable_response(message: str) -> JSONResponse:
    return JSONResponse(error_body(errors.Unavailable.code, message), status_code=STATUS[errors.Unavailable],
                        headers={"Retry-After": str(RETRY_AFTER_S)})


def error_response(exc: errors.GridcmdError) -> JSONResponse:
    """The app's answer to a domain error (also returned directly by handlers that must commit before refusing,
    e.g. a failed login's audit row)."""
    headers: dict[str, str] = {}
    if isinstance(exc, errors.NotAuthenticated):
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, errors.RateLimited) and exc.retry_after_s is not None:
        headers["Retry-After"] = str(exc.retry_after_s)
    if isinstance(exc, errors.Unavailable):
        headers["Retry-After"] = str(RETRY_AFTER_S)
    return JSONResponse(error_body(exc.code, str(_printable(exc.message)), _printable(exc.details)),
                        status_code=status_for(exc), headers=headers or None)


class Answered(Exception):
    """A refusal already rendered in a wire format of its own (e.g. Open311's error list), raised so that the
    request's transaction rolls back on its way out, then sent as it is."""

    def __init__(self, response: Response) -> None:
        super().__init__("answered")
        self.response = response


def dependency_response(exc: BaseException, *, where: str) -> JSONResponse | None:
    """PostgreSQL or Redis down, restarting, hung or saturated (command.core.outage): the 503, the outage logged as
    one line. None for anything else of these classes (a constraint violation, a bug): the caller re-raises it, a
    500 with its traceback."""
    dependency = outage.unavailable(exc)
    if dependency is None:
        return None
    OUTAGES.failed(dependency, exc, where=where)
    return unavailable_response(UNAVAILABLE_MESSAGES[dependency])


def register_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(Answered)
    async def _answered(_: Request, exc: Answered) -> Response:
        return exc.response

    @app.exception_handler(errors.GridcmdError)
    async def _domain(_: Request, exc: errors.GridcmdError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(Replayed)
    async def _replayed(_: Request, exc: Replayed) -> JSONResponse:
        # An Idempotency-Key retry of an action that already took effect (web.idempotency): not an error.
        return JSONResponse({"replayed": True, "first_at": exc.first_at.isoformat()}, status_code=200,
                            headers={"Idempotent-Replayed": "true"})

    @app.exception_handler(GeoInputError)
    async def _geo(_: Request, exc: GeoInputError) -> JSONResponse:
        return JSONResponse(error_body("invalid_input", exc.message, exc.details), status_code=422)

    @app.exception_handler(PoolTimeout)
    async def _pool_timeout(request: Request, exc: PoolTimeout) -> JSONResponse:
        # No pooled connection came free within db_pool_timeout_s (command.core.db: a fixed pool, no overflow): the
        # database is saturated, the transaction that wanted it never began, and the same request may succeed
        # later: a 503 like Unavailable, not a 500.
        OUTAGES.failed(outage.POSTGRES, exc, where=f"{request.method} {request.url.path}")
        return unavailable_response(POOL_TIMEOUT_MESSAGE)

    async def _dependency(request: Request, exc: Exception) -> JSONResponse:
        response = dependency_response(exc, where=f"{request.method} {request.url.path}")
        if response is None:
            raise exc
        return response

    for cls in outage.CANDIDATES:
        if cls is not PoolTimeout:
            app.add_exception_handler(cls, _dependency)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        # Malformed JSON and a body of the wrong content type end here too (FastAPI raises this for both).
        details = [{"loc": [_printable(p) for p in e.get("loc", ())], "msg": _printable(e.get("msg")),
                    "type": e.get("type")} for e in exc.errors()]
        return JSONResponse(error_body("invalid_input", "request validation failed", details), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        # Starlette's own refusals (404 no route, 405 wrong method, 400 unparsable multipart) in the one shape.
        code = HTTP_CODES.get(exc.status_code, "error")
        message = str(_printable(str(exc.detail))) if exc.detail else code.replace("_", " ")
        return JSONResponse(error_body(code, message),
                            status_code=exc.status_code, headers=exc.headers)


def _printable(value: object) -> object:
    """`value` as JSON can carry it: a lone surrogate (from a bad body key echoed in a message or a location)
    would make the error answer itself a 500."""
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {_printable(k): _printable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_printable(v) for v in value]
    return value
