"""The TCP side of a WebSocket: bounded buffering per socket, and a close that really ends the connection.

A client that stops reading fills, in turn, its kernel receive buffer, our kernel send buffer (SO_SNDBUF, which
Linux grows to megabytes by itself), the transport's write buffer and its send queue (web/ws_client.py). The
queue is bounded and closes the socket with 4000; but the close frame queues behind everything else, and
`transport.close()` waits for the buffer to drain, which never happens: the connection stayed ESTABLISHED,
holding megabytes, for as long as the client liked. So:

* `SocketLimits` (pure ASGI middleware) bounds the kernel send buffer and the transport's write-buffer limit of
  every WebSocket to `ws_send_buffer_bytes`, and hands the transport to the endpoint in the scope;
* `finish` gives a closing socket `ws_close_timeout_s` to get its close out and its buffer drained (the peer
  read everything and answered, or the connection is gone); otherwise the transport is aborted with SO_LINGER 0,
  so the kernel discards what it holds and sends RST at once (a plain close would leave an orphan socket
  retrying into a zero window).

The transport is found through the ASGI `send` callable, which uvicorn passes as a bound method of its protocol
object (all three of its WebSocket implementations keep the transport in `.transport`). Under another server the
transport is not found: nothing is bounded or aborted, and the close is the server's own."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger(__name__)

TRANSPORT = "gridcmd.transport"  # scope key: the connection's asyncio transport, when known
_POLL_S = 0.05


def server_transport(send: Send) -> Any | None:
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    needed = ("abort", "get_extra_info", "is_closing", "get_write_buffer_size", "set_write_buffer_limits")
    return transport if all(hasattr(transport, name) for name in needed) else None


def bound_buffers(transport: Any, nbytes: int) -> None:
    """Kernel send buffer and write-buffer high-water mark of one connection (Linux doubles SO_SNDBUF for its
    bookkeeping). Writes beyond the mark wait (uvicorn pauses the sender), so at most about 3 × nbytes is held."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, nbytes)
    with contextlib.suppress(Exception):
        transport.set_write_buffer_limits(high=nbytes)


def abort(transport: Any) -> None:
    """Drop the connection now: RST, whatever is queued (SO_LINGER on with a zero timeout, then close)."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


def gone(transport: Any) -> bool:
    """Closed by the server (after the peer's close reply, or a lost connection) with nothing left to write."""
    return bool(transport.is_closing()) and transport.get_write_buffer_size() == 0


async def finish(transport: Any | None, *, deadline: float, why: str) -> bool:
    """Wait until the loop time `deadline` for the connection to be gone; abort it otherwise. True if it had to
    be aborted."""
    if transport is None:
        return False
    loop = asyncio.get_running_loop()
    while not gone(transport):
        if loop.time() >= deadline:
            log.info("aborting a socket whose close did not complete in time (%s)", why)
            abort(transport)
            return True
        await asyncio.sleep(_POLL_S)
    return False


class SocketLimits:
    """Bound every WebSocket's buffering and put its transport in the scope (`TRANSPORT`) for `finish`."""

    def __init__(self, app: ASGIApp, *, send_buffer_bytes: int) -> None:
        self.app = app
        self.send_buffer_bytes = send_buffer_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            transport = server_transport(send)
            if transport is not None:
                bound_buffers(transport, self.send_buffer_bytes)
                scope = {**scope, TRANSPORT: transport}
        await self.app(scope, receive, send)
