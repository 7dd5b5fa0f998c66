"""GET /api/v1/events: the live stream for clients that poll instead of holding a WebSocket (same scope rules).

`after` is the last event id the client has seen (none: start from now, nothing returned). The answer's
`next` is where to continue; `reset: true` means events after `after` are no longer kept (or the stream was
re-created): refetch state through the REST API, then carry on from `next`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from command.realtime import stream
from command.realtime.stream_scope import resolve_scope
from web.deps import CurrentUser, RedisDep, SessionDep
from web.request_types import SafeLine

router = APIRouter(prefix="/api/v1", tags=["realtime"])

_SCAN_FACTOR = 20  # entries scanned per request at most, as a multiple of `limit` (out-of-scope ones are skipped)


@router.get("/events")
async def poll_events(
    principal: CurrentUser, session: SessionDep, redis: RedisDep,
    after: Annotated[SafeLine | None, Query(max_length=48, description="last event id seen (<ms>-<seq>)")] = None,
    region: Annotated[SafeLine | None, Query(max_length=64, description="region code to watch (operators)")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict:
    if after is not None:
        stream.parse_id(after)  # 422 on a malformed id
    scope = await resolve_scope(session, principal=principal, region=region)
    if after is None:
        return {"events": [], "next": await stream.tail_id(redis), "reset": False}
    events: list[dict] = []
    cursor, reset, scanned = after, False, 0
    while len(events) < limit and scanned < limit * _SCAN_FACTOR:
        page = await stream.read_after(redis, cursor, count=500)
        if page.reset:
            return {"events": events, "next": page.tail, "reset": True}
        for entry in page.entries:
            cursor = entry.id
            scanned += 1
            if entry.is_epoch:
                reset = True
            elif scope.observe(entry):
                events.append(entry.frame())
                if len(events) >= limit:
                    break
        if len(page.entries) < 500:
            break
    return {"events": events, "next": cursor, "reset": reset}
