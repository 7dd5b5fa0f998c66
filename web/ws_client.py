"""One WebSocket client of the hub: its scope, its bounded send queue and its position in the stream.

The hub (web.hub) subscribes a client to a scope, catching it up from its last event id, and its read loop hands
entries to `deliver` synchronously, in stream order; `deliver` only ever enqueues
(put_nowait), so a client that reads slowly fills its own queue and is closed with 4000 (resume) without the
loop, or any other client, waiting for it. A separate task per client (`sender`) drains the queue."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque

from starlette.websockets import WebSocket

from command.core.security import Principal
from command.realtime.stream import StreamEntry
from command.realtime.stream_scope import Scope
from web import ws_frames

log = logging.getLogger(__name__)


class Client:
    def __init__(self, websocket: WebSocket, principal: Principal, *, queue_size: int) -> None:
        self.websocket = websocket
        self.principal = principal
        self.queue: asyncio.Queue[str] = asyncio.Queue(maxsize=queue_size)
        self.backlog_cap = queue_size * 4
        self.scope: Scope | None = None
        self.cursor: tuple[int, int] = (0, 0)  # newest entry handled: entries at or before it are never sent
        self.cursor_id = "0-0"
        self.backlog: deque[StreamEntry] | None = None  # not None while catching up from last_event_id
        self.last_seen = time.monotonic()
        self.next_ping = self.last_seen  # set by the hub when it registers the socket (its phase of the interval)
        self.close_code: int | None = None
        self.close_reason = ""
        self.disconnected = False
        self.done = asyncio.Event()
        self.batch = False  # the client asked (subscribe) for the frames that wait together in one frame

    # -- called by the hub (synchronously, never awaits) ---------------------------------------------------

    def send(self, text: str) -> bool:
        if self.close_code is not None:
            return False
        try:
            self.queue.put_nowait(text)
        except asyncio.QueueFull:
            self.fail(ws_frames.RESUME, "too slow: reconnect with last_event_id")
            return False
        return True

    def fail(self, code: int, reason: str) -> None:
        """End this connection with `code` (the endpoint closes the socket)."""
        if self.close_code is None:
            log.info("closing the socket of user %s: %s %s", self.principal.user_id, code, reason)
            self.close_code, self.close_reason = code, reason
            self.done.set()

    def deliver(self, entry: StreamEntry) -> None:
        if self.close_code is not None or entry.key <= self.cursor or self.scope is None:
            return
        if self.backlog is not None:
            self.backlog.append(entry)
            if len(self.backlog) > self.backlog_cap:
                self.fail(ws_frames.RESUME, "too far behind while catching up: reconnect with last_event_id")
            return
        self._handle(entry)

    def _handle(self, entry: StreamEntry) -> None:
        text = self.take(entry)
        if text is not None:
            self.send(text)

    def take(self, entry: StreamEntry) -> str | None:
        """Advance past `entry`; the frame to send for it, if any."""
        assert self.scope is not None
        self.cursor, self.cursor_id = entry.key, entry.id
        if entry.is_epoch:
            return reset_frame(entry.id, "the event stream was re-created (Redis flushed)")
        return entry.frame_text() if self.scope.observe(entry) else None

    # -- called by the connection's own tasks -------------------------------------------------------------

    async def sender(self) -> None:
        """Send what the hub queued. A batching client gets everything that waited together in one frame: the
        hub queues all the entries of one stream read before this task runs, so the events of one transaction
        go out as one WebSocket frame (36 % fewer frames in the province e2e bench; docs/benchmarks.md)."""
        queue = self.queue
        while True:
            first = await queue.get()
            if not self.batch or queue.empty():
                await self.websocket.send_text(first)
                continue
            texts = [first]
            while len(texts) < ws_frames.MAX_BATCH and not queue.empty():
                texts.append(queue.get_nowait())
            await self.websocket.send_text(ws_frames.batch(texts))


def reset_frame(entry_id: str, reason: str) -> str:
    return ws_frames.text({"type": "reset", "id": entry_id, "reason": reason})
