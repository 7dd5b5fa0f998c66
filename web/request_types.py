"""The types every request field is declared with: what the edge accepts, written once (docs/input.md).

Text never carries control characters (NUL breaks PostgreSQL; C0/C1 corrupt logs, CSV and screens): free text
allows tab and newlines (LF, CR) only, one-line values (codes, names, ids) none at all, and lone surrogates
(which JSON can spell but UTF-8 cannot store) never. Text that must say something (a description, a reason)
needs one visible character: a run of zero-width spaces is empty. Ids fit the column they name (int4 or int8),
numbers in JSON bodies are numbers (never booleans or strings), coordinates are finite, and times lie within
`EARLIEST`..`LATEST` so no time-zone shift or `+ days` overflows Python or PostgreSQL.

Refusals are pydantic errors, so FastAPI answers them 422 in the app's error shape (web.errors). Query, path
and form values that a route did not type (e.g. the OAuth2 login form) go through `refuse_control_characters`,
an app-wide dependency, by the same rule."""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Annotated

from annotated_types import Ge, Le
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from pydantic import AfterValidator, BeforeValidator, Field, Strict
from starlette.datastructures import UploadFile
from starlette.requests import HTTPConnection, Request

from command.core.errors import InvalidInput
from web.openapi_errors import declare

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)

# C0 controls but tab, LF and CR; DEL and the C1 block; UTF-16 surrogates (unstorable in UTF-8).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# One-line values: no tab, newline or Unicode line/paragraph separator either.
_LINE_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
# The same rules as JSON-Schema patterns (ECMA-262), so the OpenAPI document says what is accepted.
TEXT_PATTERN = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$"
LINE_PATTERN = r"^[^\u0000-\u001f\u007f-\u009f\u2028\u2029]*$"
# Characters that render as nothing but are not Unicode whitespace (category Cf covers the zero-width ones).
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def _describe(char: str) -> str:
    return f"U+{ord(char):04X}"


def check_text(value: str) -> str:
    """Free text: no control character but tab, LF and CR."""
    if found := _CONTROL.search(value):
        raise ValueError(f"control character {_describe(found.group())} at position {found.start()} is not allowed")
    return value


def check_line(value: str) -> str:
    """A one-line value: no control character at all."""
    if found := _LINE_CONTROL.search(value):
        raise ValueError(f"control character {_describe(found.group())} at position {found.start()} is not allowed "
                         "in a one-line value")
    return value


def is_blank(value: str) -> bool:
    """Nothing a reader would see: whitespace, zero-width and other format characters, combining marks alone."""
    return all(c.isspace() or c in _BLANK_LETTERS or unicodedata.category(c) in ("Cf", "Cc", "Mn", "Me", "Zs")
               for c in value)


def check_visible(value: str) -> str:
    if is_blank(value):
        raise ValueError("must contain a visible character (whitespace and zero-width characters alone are empty)")
    return value


def _not_bool(value: object) -> object:
    # JSON `true` is not 1: pydantic's lax int would take it, and a coordinate of `true` would be stored as 1.0.
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    return value


def _bounded_instant(value: datetime) -> datetime:
    utc = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if not EARLIEST <= utc < LATEST:
        raise ValueError(f"must lie between {EARLIEST.date()} and {LATEST.date()} (UTC)")
    return value


def _bounded_day(value: date) -> date:
    if not EARLIEST.date() <= value < LATEST.date():
        raise ValueError(f"must lie between {EARLIEST.date()} and {LATEST.date()}")
    return value


# --- text -------------------------------------------------------------------------------------------------------
SafeText = Annotated[str, AfterValidator(check_text), Field(json_schema_extra={"pattern": TEXT_PATTERN})]
"""Free text (notes, comments): tab and newlines allowed, no other control character."""

VisibleText = Annotated[SafeText, AfterValidator(check_visible)]
"""Free text that must say something: a description, a reason, a title."""

SafeLine = Annotated[str, AfterValidator(check_line), Field(json_schema_extra={"pattern": LINE_PATTERN})]
"""A one-line value: a code, a name, an external id, a filter."""

VisibleLine = Annotated[SafeLine, AfterValidator(check_visible)]
"""A one-line value that must say something (a person's name)."""

IdempotencyKey = Annotated[str, Field(pattern=r"^[!-~]{1,128}$", description=(
    "made by the client when it creates the action or report: 1-128 printable ASCII characters, no spaces"))]
"""The Idempotency-Key header: a retry with it is applied once."""

UploadId = Annotated[uuid.UUID, Field(description="an id from POST /api/v1/uploads (or /api/v1/public/uploads)")]
"""A photo's upload id."""

# --- numbers ----------------------------------------------------------------------------------------------------
# In a path or a query an id is text, never a boolean; in a JSON body it must be a JSON integer (Strict: pydantic's
# lax int would take `true` as 1 and "5" as 5). Narrower bounds at a use site nest: Annotated[Lat, Ge(…), Le(…)]
# (a `Field(ge=…)` there would be overridden by the type's own bounds).
Id32 = Annotated[int, Ge(1), Le(INT32_MAX)]
"""An id of an int4 column (users, workers, regions, rules, extension requests, patrol tasks and visits), in a
path or a query."""

Id64 = Annotated[int, Ge(1), Le(INT64_MAX)]
"""An id of an int8 column (incidents, orders, events, deadlines), in a path or a query."""

BodyId32 = Annotated[int, Strict(), Ge(1), Le(INT32_MAX)]
"""An int4 id in a JSON body: a JSON integer."""

BodyId64 = Annotated[int, Strict(), Ge(1), Le(INT64_MAX)]
"""An int8 id in a JSON body: a JSON integer."""

Integer = Annotated[int, Strict()]
"""A count, limit, level or weekday in a JSON body: a JSON integer; its range is given where it is used."""

Lon = Annotated[float, Strict(), Ge(-180), Le(180), Field(allow_inf_nan=False)]
"""A longitude in a JSON body: a JSON number (not a boolean, not a string), finite, within ±180."""

Lat = Annotated[float, Strict(), Ge(-90), Le(90), Field(allow_inf_nan=False)]
"""A latitude in a JSON body: a JSON number, finite, within ±90."""

# --- times ------------------------------------------------------------------------------------------------------
Instant = Annotated[datetime, BeforeValidator(_not_bool), AfterValidator(_bounded_instant)]
"""A point in time within EARLIEST..LATEST (UTC); services that need a zone say so (naive: refused there)."""

Day = Annotated[date, AfterValidator(_bounded_day)]
"""A calendar date within EARLIEST..LATEST."""


# --- values no route typed ------------------------------------------------------------------------------------------
def line_control_problems(where: str, items: Iterable[tuple[str, object]]) -> list[dict[str, object]]:
    """The one-line rule over (name, value) pairs of a query or path: a problem, in the 422's details shape, for each
    pair whose name or value holds a control character (also the OsmAnd fast path's check, web.osmand_fast)."""
    problems: list[dict[str, object]] = []
    for name, value in items:
        found = _LINE_CONTROL.search(name) or (_LINE_CONTROL.search(value) if isinstance(value, str) else None)
        if found:
            problems.append({"loc": [where, name], "msg": f"control character {_describe(found.group())} is not "
                             "allowed", "type": "control_character"})
    return problems


@declare(422)
async def refuse_control_characters(connection: HTTPConnection) -> None:
    """App-wide: every query and path name and value, and every form value, obeys the one-line rule (free-text form
    fields the text rule).

    Typed parameters already did; this catches the rest (the OAuth2 login form, parameters a route reads itself),
    so no control character reaches a service whatever a route declares."""
    problems: list[dict[str, object]] = []
    route = connection.scope.get("route")
    # A page's query string is read only by its scripts, which apply their own rules (e.g. auth.js safeNext): a
    # crafted link still opens the page instead of a JSON error.
    page = isinstance(route, APIRoute) and route.response_class is HTMLResponse
    query = [] if page else connection.query_params.multi_items()
    problems += line_control_problems("query", query) + line_control_problems("path", connection.path_params.items())
    content_type = connection.headers.get("content-type", "")
    if isinstance(connection, Request) and content_type.startswith(("application/x-www-form-urlencoded",
                                                                    "multipart/form-data")):
        form = await connection.form()  # parsed already by FastAPI for form routes (cached on the request)
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                continue
            if found := _CONTROL.search(value) or _CONTROL.search(name):
                problems.append({"loc": ["body", name], "msg": f"control character {_describe(found.group())} is "
                                 "not allowed", "type": "control_character"})
    if problems:
        raise InvalidInput("request validation failed", details=problems)
