"""Every error status an operation can answer, in the OpenAPI document, derived instead of written per route.

An operation's statuses come from what it is made of (`statuses_of`):
- its dependencies: each declares what it refuses with (`declare`, or `DEPENDENCY_STATUSES` for web.deps):
  the caller's token → 401 and 403 (role or scope), a session or Redis → 503, a rate limit → 429, an
  Idempotency-Key → 200 (replayed) and 409;
- its parameters: any → 422; a body → 413 (web.middleware) and 400 (bytes no parser reads: not UTF-8, a broken
  multipart — FastAPI's own answer, in the one error shape); a path parameter names something that may not
  exist → 404, and acting on it (POST/PUT/PATCH/DELETE) may find it in the wrong state → 409
  (command.core.lifecycle's IllegalTransition, or a conflict);
- and what the route itself adds with `responses=` (e.g. `errors(409)` for an intake that can conflict).

Every error status shares one body schema (`ErrorResponse`, the shape web.errors writes)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from web.deps import current_claims, current_principal, get_read_session, get_redis, get_session

F = TypeVar("F", bound=Callable[..., Any])

ERROR_SCHEMA_NAME = "ErrorResponse"
ERROR_REF = {"$ref": f"#/components/schemas/{ERROR_SCHEMA_NAME}"}
ERROR_SCHEMA: dict[str, Any] = {
    "title": ERROR_SCHEMA_NAME,
    "description": "Every refusal and failure: a stable machine code, a message for people, optional details.",
    "type": "object",
    "required": ["error"],
    "properties": {"error": {
        "type": "object",
        "required": ["code", "message"],
        "properties": {
            "code": {"type": "string", "description": "e.g. invalid_input, not_found, conflict, forbidden"},
            "message": {"type": "string"},
            "details": {"description": "what exactly was wrong (e.g. the fields, as [{loc, msg, type}])"},
        },
    }},
}
REPLAY_SCHEMA: dict[str, Any] = {
    "type": "object", "required": ["replayed", "first_at"],
    "properties": {"replayed": {"type": "boolean", "const": True}, "first_at": {"type": "string",
                                                                               "format": "date-time"}},
}

DESCRIPTIONS: dict[int, str] = {
    400: "Bad request: the body could not be read (not UTF-8 where JSON is expected, a broken multipart)",
    401: "Not authenticated: the bearer token (or signature) is missing, invalid or expired",
    403: "Forbidden: the caller's role, region or department does not cover this",
    404: "Not found (or not visible to the caller)",
    409: "Conflict: the resource is not in a state that allows this, or a key was already used differently",
    413: "Request body too large",
    415: "Unsupported media type: the body is not of a content type this operation reads (e.g. CAP needs XML)",
    422: "Invalid input: a parameter or the body breaks a rule (docs/input.md)",
    429: "Too many requests: rate limited, retry later",
    503: "Unavailable: a dependency (database, Redis, live state) cannot serve now; retry",
}

# web.deps cannot import this module (it is imported by it), so its dependencies are listed here.
DEPENDENCY_STATUSES: dict[Callable[..., Any], tuple[int, ...]] = {
    current_principal: (401, 403),
    current_claims: (401,),
    get_session: (503,),
    get_read_session: (503,),
    get_redis: (503,),
}
_ACTING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def declare(*statuses: int, acting_only: bool = False) -> Callable[[F], F]:
    """Mark a dependency with the statuses it may answer (read when the OpenAPI document is built); with
    `acting_only`, only on POST/PUT/PATCH/DELETE routes (an Idempotency-Key does nothing on a GET)."""

    def mark(fn: F) -> F:
        fn.error_statuses = statuses  # type: ignore[attr-defined]
        fn.error_statuses_acting_only = acting_only  # type: ignore[attr-defined]
        return fn

    return mark


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for what a route adds to its derived statuses, e.g. `responses=errors(409)`."""
    return {s: {"description": DESCRIPTIONS[s], "content": {"application/json": {"schema": ERROR_REF}}}
            for s in statuses}


def replayed(description: str = "A retry with the same key: the first answer again, nothing applied twice"
             ) -> dict[int | str, dict[str, Any]]:
    return {200: {"description": description}}


def _dependencies(dependant: Dependant) -> Iterable[Dependant]:
    for sub in dependant.dependencies:
        yield sub
        yield from _dependencies(sub)


def statuses_of(route: Any) -> set[int]:
    """The statuses `route` (an APIRoute, or FastAPI's RouteContext of one) can answer besides its success: see
    the module's doc."""
    found: set[int] = set()
    acting = bool(set(route.methods or ()) & _ACTING)
    deps = [route.dependant, *_dependencies(route.dependant)]
    for dep in deps[1:]:
        if dep.call is not None:
            found.update(DEPENDENCY_STATUSES.get(dep.call, ()))
            if acting or not getattr(dep.call, "error_statuses_acting_only", False):
                found.update(getattr(dep.call, "error_statuses", ()))
    path_params = [p for d in deps for p in d.path_params]
    if path_params or any(d.query_params or d.header_params or d.cookie_params or d.body_params for d in deps):
        found.add(422)
    if route.body_field is not None:
        found.update((400, 413))
    if path_params:
        found.add(404)
        if acting:
            found.add(409)
    for status in route.responses or {}:
        if isinstance(status, int) and status >= 400:
            found.add(status)
    return found


def _error_response(status: int) -> dict[str, Any]:
    return {"description": DESCRIPTIONS.get(status, "Error"), "content": {"application/json": {"schema": ERROR_REF}}}


def add_error_responses(schema: dict[str, Any], routes: Iterable[Any]) -> None:
    """Write every route's derived statuses into `schema` (an OpenAPI document built from `routes`)."""
    for context in iter_route_contexts(list(routes)):
        if not isinstance(context.original_route, APIRoute) or not context.include_in_schema:
            continue
        for method in context.methods or ():
            operation = schema["paths"].get(context.path_format, {}).get(method.lower())
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            for status in sorted(statuses_of(context)):
                if status == 200:
                    if str(context.status_code or 200) != "200":  # a replay answers 200 beside the 201/204
                        responses.setdefault("200", {"description": "Replayed: an Idempotency-Key retry of an "
                                             "action already applied (nothing done again)",
                                             "content": {"application/json": {"schema": REPLAY_SCHEMA}}})
                    continue
                # FastAPI's own 422 (HTTPValidationError, {"detail": …}) is not the shape web.errors answers.
                if status == 422 or str(status) not in responses:
                    responses[str(status)] = _error_response(status)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components[ERROR_SCHEMA_NAME] = ERROR_SCHEMA
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)


def document_errors(app: FastAPI) -> None:
    """Make `app.openapi()` carry every operation's error statuses and the error body schema."""
    build = app.openapi
    documented: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        schema = build()  # FastAPI's, cached until the routes change
        if not documented or documented[0] is not schema:
            add_error_responses(schema, app.routes)
            documented[:] = [schema]
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
