"""X-Request-ID in and out: the caller's id when it looks like one (command.core.logctx), a new one otherwise;
set for the request's task so every log line of its intake, dispatch and event publish carries it, and echoed
on the response. A WebSocket gets one for its connection's own lines (each frame's line carries the id of the
request that made the event instead: web.hub)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from command.core.logctx import INCIDENT_ID, REQUEST_ID, accept_request_id

HEADER = b"x-request-id"


class RequestId:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given = next((v.decode("latin-1") for k, v in scope.get("headers", ()) if k == HEADER), None)
        request_id = accept_request_id(given)
        scope.setdefault("state", {})["request_id"] = request_id
        t1, t2 = REQUEST_ID.set(request_id), INCIDENT_ID.set(None)

        async def with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (HEADER, request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, with_header if scope["type"] == "http" else send)
        finally:
            REQUEST_ID.reset(t1)
            INCIDENT_ID.reset(t2)
