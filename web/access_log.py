"""Keep secrets that ride in URLs out of the access log: uvicorn logs every request's path with its query string.

The app itself never puts a token in a URL (bearer tokens go in the Authorization header, socket tokens in the
auth frame, tracking tokens in a header or the page's #fragment, docs/security.md), but an old printed link or a
hand-written client may still send `?token=` or `?k=`: its value is written as `[redacted]`."""

from __future__ import annotations

import logging
import re

ACCESS_LOGGER = "uvicorn.access"
_SECRET_PARAM = re.compile(r"(?i)([?&](?:token|k|access_token|tracking_token)=)[^&#\s\"]*")


def redact(text: str) -> str:
    return _SECRET_PARAM.sub(r"\1[redacted]", text)


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def install() -> None:
    """Add the filter to uvicorn's access logger once per process (call after uvicorn configured logging)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, RedactSecrets) for f in logger.filters):
        logger.addFilter(RedactSecrets())
