"""Logs an operator can follow and hand on: one JSON object per line, with the request id and incident id of
the work (command.core.logctx), levels per module (GRIDCMD_LOG_LEVELS), and no personal data or secrets.

Personal data is kept out first by not logging it (no code logs a reporter's name, phone or description);
`redact` is the net under that: Chinese mobile numbers, bearer tokens, JWTs and secret URL parameters are
replaced in the message and every extra field before a line is written."""

from __future__ import annotations

import logging
import logging.config
import re
from datetime import UTC, datetime
from typing import Any

import orjson

from command.core.logctx import INCIDENT_ID, REQUEST_ID
from command.core.settings import Settings

_PATTERNS = (
    (re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d{9}(?!\d)"), "[phone]"),
    (re.compile(r"(?i)\bbearer\s+[^\s\"',]+"), "Bearer [redacted]"),
    (re.compile(r"\beyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]+"), "[token]"),  # a JWT anywhere
    (re.compile(r"(?i)([?&](?:token|k|access_token|tracking_token|password)=)[^&#\s\"]*"), r"\1[redacted]"),
    (re.compile(r"(?i)(\"?(?:password|secret|token)\"?\s*[:=]\s*\"?)[^\s\",}&]+"), r"\1[redacted]"),
)
# LogRecord's own attributes: everything else on a record came in as `extra=` and goes into the JSON.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime", "color_message"}


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, int | float | bool) or value is None:
        return value
    return redact(str(value))


class ContextFilter(logging.Filter):
    """Puts the request id and incident id of the current context on the record (unless given as extra)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = REQUEST_ID.get()
        if getattr(record, "incident_id", None) is None:
            record.incident_id = INCIDENT_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """{"ts", "level", "logger", "msg", "request_id"?, "incident_id"?, extras…, "exc"?} on one line."""

    def format(self, record: logging.LogRecord) -> str:
        ContextFilter().filter(record)  # also when the handler was configured without the filter (uvicorn's)
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(), "logger": record.name, "msg": redact(record.getMessage()),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and value is not None and not key.startswith("_"):
                line[key] = _clean(value)
        if record.exc_info:
            line["exc"] = redact(self.formatException(record.exc_info))
        return orjson.dumps(line).decode()


class TextFormatter(logging.Formatter):
    """The plain format, redacted, with the ids in brackets."""

    def format(self, record: logging.LogRecord) -> str:
        ContextFilter().filter(record)
        ids = " ".join(f"{k}={v}" for k in ("request_id", "incident_id") if (v := getattr(record, k, None)))
        text = super().format(record)
        return redact(f"{text} [{ids}]" if ids else text)


def parse_levels(spec: str) -> dict[str, str]:
    """`gridcmd.hub=debug,uvicorn.access=warning` → {logger: LEVEL}; a malformed part is a ValueError."""
    levels: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, sep, level = part.partition("=")
        if not sep or not name.strip() or level.strip().upper() not in logging.getLevelNamesMapping():
            raise ValueError(f"GRIDCMD_LOG_LEVELS: {part!r} is not logger=level")
        levels[name.strip()] = level.strip().upper()
    return levels


def log_config(settings: Settings) -> dict[str, Any]:
    """A logging.config.dictConfig for the whole process (uvicorn's loggers included)."""
    # Names, not objects: uvicorn hands this config to spawned workers (pickled).
    formatter = {"()": "command.ops.logs.JsonFormatter"} if settings.log_format == "json" else {
        "()": "command.ops.logs.TextFormatter", "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    root_level = settings.log_level.upper()
    loggers: dict[str, Any] = {name: {"level": root_level, "handlers": [], "propagate": True}
                               for name in ("uvicorn", "uvicorn.error", "uvicorn.access")}
    for name, level in parse_levels(settings.log_levels).items():
        loggers[name] = {"level": level, "handlers": [], "propagate": True}
    return {
        "version": 1, "disable_existing_loggers": False,
        "formatters": {"main": formatter},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "main", "stream": "ext://sys.stderr"}},
        "root": {"level": root_level, "handlers": ["stderr"]},
        "loggers": loggers,
    }


def uvicorn_log_config(settings: Settings) -> dict[str, Any]:
    """What `gridcmd serve` hands uvicorn (applied in every worker)."""
    return log_config(settings)


def configure(settings: Settings) -> None:
    """For processes that are not uvicorn's (scheduler, dispatcher, CLI jobs)."""
    logging.config.dictConfig(log_config(settings))
