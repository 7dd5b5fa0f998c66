"""Pure ASGI middleware (no BaseHTTPMiddleware): request body size limit."""

from __future__ import annotations

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web.errors import error_body

ADMIN_FILE_ROUTES = frozenset({"/api/v1/admin/regions/check", "/api/v1/admin/regions/apply",
                               "/api/v1/admin/users/import"})


class BodySizeLimit:
    """Refuse bodies over `max_bytes` (declared or streamed) with 413 before the app reads them.

    Multipart uploads under /api/v1/uploads get `max_upload_bytes` instead, and the admin console's file routes
    (ADMIN_FILE_ROUTES: region files, account sheets) `max_admin_file_bytes`."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, max_upload_bytes: int,
                 max_admin_file_bytes: int | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_upload_bytes = max_upload_bytes
        self.max_admin_file_bytes = max_admin_file_bytes or max_bytes

    def _limit(self, path: str) -> int:
        if "/uploads" in path:
            return self.max_upload_bytes
        if path in ADMIN_FILE_ROUTES:
            return self.max_admin_file_bytes
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope.get("path", ""))
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                await _reject(send, limit)
                return
        received = 0
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if not response_started:
                await _reject(send, limit)


class _BodyTooLarge(Exception):
    pass


async def _reject(send: Send, limit: int) -> None:
    body = orjson.dumps(error_body("too_large", f"request body exceeds {limit} bytes"))
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
