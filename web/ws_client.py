"""One WebSocket client of the hub: its scope, its bounded send queue and its position in the stream.

The hub's read loop hands entries to `deliver` synchronously, in stream order; `deliver` only ever enqueues
(put_nowait), so a client that reads slowly fills its own queue and is closed with 4000 (resume) without the
loop, or any other client, waiting for it. A separate task per client (`sender`) drains the queue."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from typing import TYPE_CHECKING

from starlette.websockets import WebSocket

from command import stream
from command.security import Principal
from command.stream import StreamEntry
from command.stream_scope import Scope
from web import ws_frames

if TYPE_CHECKING:
    from web.hub import Hub

_PAGE = 500
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
        self.close_code: int | None = None
        self.close_reason = ""
        self.disconnected = False
        self.done = asyncio.Event()

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
            log.info("closing %s's socket: %s %s", self.principal.username, code, reason)
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
        text = self._take(entry)
        if text is not None:
            self.send(text)

    def _take(self, entry: StreamEntry) -> str | None:
        """Advance past `entry`; the frame to send for it, if any."""
        assert self.scope is not None
        self.cursor, self.cursor_id = entry.key, entry.id
        if entry.is_epoch:
            return reset_frame(entry.id, "the event stream was re-created (Redis flushed)")
        return entry.frame_text() if self.scope.observe(entry) else None

    # -- called by the connection's own tasks -------------------------------------------------------------

    async def sender(self) -> None:
        while True:
            await self.websocket.send_text(await self.queue.get())

    async def subscribe(self, hub: Hub, scope: Scope, last_event_id: str | None) -> None:
        """Switch to `scope`. With last_event_id: every entry after it in scope, once each, in order, then live.

        Live entries that arrive while the history is read are kept in `backlog` (the hub hands this client
        every entry meanwhile) and `cursor` drops whatever the history already covered; the switch to live
        happens when the backlog is empty, without awaiting, so no entry falls in between."""
        hub.detach(self)
        self.scope = scope
        if last_event_id is None:
            if self.cursor == (0, 0):  # first subscription: live from what this process has read
                self.cursor, self.cursor_id = hub.position, hub.position_id
            else:  # a new scope on the same socket: continue from where it was
                last_event_id = self.cursor_id
        if last_event_id is None:
            hub.attach(self)
            return
        self.backlog = deque()
        hub.attach_catching_up(self)
        after = last_event_id
        while True:
            page = await stream.read_after(hub.redis, after, count=_PAGE)
            if page.reset:
                await self.queue.put(reset_frame(page.tail, "events after last_event_id are gone: refetch state"))
                after = page.tail
                break
            for entry in page.entries:
                after = entry.id
                if entry.is_epoch:
                    await self.queue.put(reset_frame(entry.id, "the event stream was re-created (Redis flushed)"))
                elif scope.observe(entry):
                    await self.queue.put(entry.frame_text())  # history goes at the client's pace
            if len(page.entries) < _PAGE:
                break
        self.cursor, self.cursor_id = stream.parse_id(after), after
        # What arrived meanwhile, at the client's pace too; new arrivals keep joining the backlog until it is
        # empty, and the switch to live happens right then, with no await in between.
        while self.backlog:
            entry = self.backlog.popleft()
            if entry.key > self.cursor and (text := self._take(entry)) is not None:
                await self.queue.put(text)
        self.backlog = None
        hub.attach(self)


def reset_frame(entry_id: str, reason: str) -> str:
    return ws_frames.text({"type": "reset", "id": entry_id, "reason": reason})
