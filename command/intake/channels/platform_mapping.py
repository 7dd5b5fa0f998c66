"""A hotline platform's wire format as data: which of their fields is which of ours (inbound), how our status
reports are written for them (outbound), their category and priority codes. The 12345 platform's own format is
the built-in mapping `BUILTIN["12345"]`; a second provincial platform is a row of `platform_mappings`, not code.
Field by field: docs/interop.md.

Inbound, a work order becomes our canonical document {id, category, description, lon, lat, crs, deadline,
priority, reporter: {name, phone}}, which web.api.hotline validates with the same model for every platform.
Outbound, each status report (the outbox payload: event_id, work_order_id, incident_public_id, kind, from, to,
reason, at; plus status = their code for `to`) is written under their field names."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from command.core.clock import utcnow
from command.core.errors import InvalidInput, NotFound
from command.core.models import PlatformMapping

# Our inbound fields (dotted: nested in the canonical document) and the outbound payload's fields.
OUR_FIELDS = ("id", "category", "description", "lon", "lat", "crs", "deadline", "priority", "reporter.name",
              "reporter.phone")
REQUIRED = ("id", "category", "description", "lon", "lat", "deadline")
OUTBOUND_FIELDS = ("event_id", "work_order_id", "incident_public_id", "kind", "from", "to", "reason", "at",
                   "status")
DEADLINE_FORMATS = ("iso8601", "unix_s", "unix_ms")  # or a strptime pattern such as "%Y-%m-%d %H:%M:%S"
PLATFORM = r"^[a-z0-9][a-z0-9_-]{0,31}$"


class Mapping(BaseModel):
    """One platform's format. `strict`: a work order may carry no field the mapping does not name."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    inbound: dict[str, str] = Field(description="our field (OUR_FIELDS) → their field, dotted for nesting")
    constants: dict[str, str | int | float] = Field(default_factory=dict, description="our field → fixed value")
    deadline_format: str = "iso8601"
    timezone: str = "Asia/Shanghai"  # for deadlines written without an offset
    priorities: dict[str, int] = Field(default_factory=dict, description="their priority value → ours (1-4)")
    categories: dict[str, str] | None = Field(None, description="their category → ours; None: hotline_categories")
    outbound: dict[str, str] = Field(default_factory=dict, description="their field → our payload field; empty: "
                                     "our payload as it is")
    statuses: dict[str, str] = Field(default_factory=dict, description="our status → their status code")
    callback_url: str | None = Field(None, max_length=2000, description="where their status reports go")
    strict: bool = False

    @field_validator("inbound")
    @classmethod
    def _inbound(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = set(value) - set(OUR_FIELDS)
        if unknown:
            raise ValueError(f"unknown field(s) {sorted(unknown)}; ours are {', '.join(OUR_FIELDS)}")
        missing = [f for f in REQUIRED if f not in value]
        if missing:
            raise ValueError(f"inbound must map {', '.join(missing)}")
        return value

    @field_validator("outbound")
    @classmethod
    def _outbound(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = set(value.values()) - set(OUTBOUND_FIELDS)
        if unknown:
            raise ValueError(f"unknown payload field(s) {sorted(unknown)}; ours are {', '.join(OUTBOUND_FIELDS)}")
        return value

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("priorities")
    @classmethod
    def _priorities(cls, value: dict[str, int]) -> dict[str, int]:
        if any(not 1 <= p <= 4 for p in value.values()):
            raise ValueError("priorities map to 1 (most urgent) … 4")
        return value


_IDENTITY = {f: f for f in OUR_FIELDS}
BUILTIN: dict[str, Mapping] = {
    # The 12345 link's own JSON (web.api.hotline WorkOrderIn): our names, ISO 8601 deadlines, nothing else allowed.
    "12345": Mapping(name="12345 政务服务便民热线", inbound=_IDENTITY, strict=True),
}


def _get(doc: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(doc, dict) or part not in doc:
            return None
        doc = doc[part]
    return doc


def _set(doc: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    for part in parents:
        doc = doc.setdefault(part, {})
    doc[leaf] = value


def _paths(doc: dict[str, Any], prefix: str = "") -> list[str]:
    out = []
    for key, value in doc.items():
        path = f"{prefix}{key}"
        out.extend(_paths(value, f"{path}.") if isinstance(value, dict) else [path])
    return out


def _bad(field: str, message: str) -> InvalidInput:
    return InvalidInput("invalid work order", details=[{"loc": field.split("."), "msg": message}])


def _deadline(mapping: Mapping, value: Any) -> Any:
    """Their deadline as ISO 8601 text (then validated like every platform's)."""
    fmt = mapping.deadline_format
    if fmt == "iso8601" or value is None:
        return value
    if fmt in ("unix_s", "unix_ms"):
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise _bad("deadline", f"deadline must be {fmt}")
        try:
            seconds = float(value) / (1000 if fmt == "unix_ms" else 1)
            return datetime.fromtimestamp(seconds, UTC).isoformat()
        except (ValueError, OverflowError, OSError) as exc:
            raise _bad("deadline", f"deadline must be {fmt}") from exc
    try:
        at = datetime.strptime(str(value), fmt)
    except ValueError as exc:
        raise _bad("deadline", f"deadline must be written as {fmt}") from exc
    return (at if at.tzinfo else at.replace(tzinfo=ZoneInfo(mapping.timezone))).isoformat()


def inbound(mapping: Mapping, doc: Any) -> dict[str, Any]:
    """Their work order → our canonical document. Raises InvalidInput for a body that is not an object, and (strict)
    for a field the mapping does not name."""
    if not isinstance(doc, dict):
        raise InvalidInput("invalid work order", details=[{"loc": [], "msg": "a JSON object is expected"}])
    if mapping.strict:
        known = set(mapping.inbound.values())
        for path in _paths(doc):
            if path not in known and not any(t.startswith(f"{path}.") for t in known):
                raise _bad(path, "extra inputs are not permitted")
    out: dict[str, Any] = {}
    for ours, value in mapping.constants.items():
        _set(out, ours, value)
    for ours, theirs in mapping.inbound.items():
        value = _get(doc, theirs)
        if value is None:
            continue
        if ours == "deadline":
            value = _deadline(mapping, value)
        elif ours == "priority" and mapping.priorities:
            if str(value) not in mapping.priorities:
                raise _bad(theirs, f"unknown priority {value!r}; known: {', '.join(mapping.priorities)}")
            value = mapping.priorities[str(value)]
        _set(out, ours, value)
    return out


def outbound(mapping: Mapping, payload: dict[str, Any]) -> dict[str, Any]:
    """Our status report under their field names (as it is when the mapping names no outbound field)."""
    if not mapping.outbound:
        return payload
    ours = {**payload, "status": mapping.statuses.get(str(payload.get("to")), payload.get("to"))}
    return {theirs: ours.get(field) for theirs, field in mapping.outbound.items()}


async def load(session: AsyncSession, platform: str) -> Mapping:
    if platform in BUILTIN:
        return BUILTIN[platform]
    row = await session.get(PlatformMapping, platform)
    if row is None:
        raise NotFound(f"no mapping for platform {platform!r}")
    return Mapping.model_validate(row.mapping)


async def save(session: AsyncSession, *, platform: str, document: dict[str, Any]) -> Mapping:
    if platform in BUILTIN:
        raise InvalidInput(f"the {platform} platform's mapping is built in")
    try:
        mapping = Mapping.model_validate(document)
    except ValidationError as exc:
        raise InvalidInput("invalid mapping", details=[
            {"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors(include_url=False)]) from exc
    await session.execute(insert(PlatformMapping).values(platform=platform, mapping=mapping.model_dump(),
                                                         updated_at=utcnow())
                          .on_conflict_do_update(index_elements=["platform"],
                                                 set_={"mapping": mapping.model_dump(), "updated_at": utcnow()}))
    return mapping
