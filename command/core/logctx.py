"""What every log line of a piece of work carries: the request id (X-Request-ID, set by the web edge or a job) and
the incident the work is about. Context variables, so they follow the request's task (and tasks it creates)
through intake, dispatch and the publish of its events without being passed along; the log formatter
(command.ops.logs) reads them."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

REQUEST_ID: ContextVar[str | None] = ContextVar("gridcmd_request_id", default=None)
INCIDENT_ID: ContextVar[int | None] = ContextVar("gridcmd_incident_id", default=None)

# A caller's X-Request-ID is kept only when it looks like an id (no spaces, no control characters, no room for
# a phone number or a sentence to ride into the logs); otherwise a new one is made.
_ACCEPTABLE = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")


def new_request_id() -> str:
    return secrets.token_hex(8)


def accept_request_id(given: str | None) -> str:
    """The caller's id if acceptable (and not all digits: a phone number is not an id), else a fresh one."""
    if given and _ACCEPTABLE.match(given) and not given.isdigit():
        return given
    return new_request_id()


def about_incident(incident_id: int | None) -> None:
    """From here on in this task, log lines are about this incident."""
    INCIDENT_ID.set(incident_id)


@contextmanager
def work(request_id: str | None = None, incident_id: int | None = None) -> Iterator[str]:
    """A unit of background work (a sweeper item, a timer) with its own request id; restores the outer one."""
    rid = request_id or new_request_id()
    t1, t2 = REQUEST_ID.set(rid), INCIDENT_ID.set(incident_id)
    try:
        yield rid
    finally:
        REQUEST_ID.reset(t1)
        INCIDENT_ID.reset(t2)
