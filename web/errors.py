"""One error → status table, registered once on the app."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import TimeoutError as PoolTimeout

from command import errors
from command.request_keys import Replayed
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

POOL_TIMEOUT_MESSAGE = "the database is busy: no connection came free in time; try again"


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


def register_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(errors.GridcmdError)
    async def _domain(_: Request, exc: errors.GridcmdError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, errors.NotAuthenticated) else None
        return JSONResponse(
            error_body(exc.code, exc.message, exc.details), status_code=status_for(exc), headers=headers
        )

    @app.exception_handler(Replayed)
    async def _replayed(_: Request, exc: Replayed) -> JSONResponse:
        # An Idempotency-Key retry of an action that already took effect (web.idempotency): not an error.
        return JSONResponse({"replayed": True, "first_at": exc.first_at.isoformat()}, status_code=200,
                            headers={"Idempotent-Replayed": "true"})

    @app.exception_handler(GeoInputError)
    async def _geo(_: Request, exc: GeoInputError) -> JSONResponse:
        return JSONResponse(error_body("invalid_input", exc.message, exc.details), status_code=422)

    @app.exception_handler(PoolTimeout)
    async def _pool_timeout(_: Request, exc: PoolTimeout) -> JSONResponse:
        # No pooled connection came free within db_pool_timeout_s (command.db: a fixed pool, no overflow): the
        # database is saturated, the transaction that wanted it never began, and the same request may succeed
        # later: a 503 like Unavailable, not a 500.
        return JSONResponse(error_body(errors.Unavailable.code, POOL_TIMEOUT_MESSAGE),
                            status_code=STATUS[errors.Unavailable])

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")} for e in exc.errors()
        ]
        return JSONResponse(error_body("invalid_input", "request validation failed", details), status_code=422)
