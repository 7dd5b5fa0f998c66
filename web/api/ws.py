"""WebSocket /ws: the live feed of wall displays, workers' phones and liaisons' consoles (docs/realtime.md).

The first frame must be {"type": "auth", "token": "<bearer token>"} (not a query parameter: URLs end up in
access logs); nothing is sent before it succeeds, and a missing or bad one closes with 4401. Then the client
subscribes ({"type": "subscribe", "region"?, "last_event_id"?}), answers pings, and a worker may report
positions. Bad frames get an error frame (state unchanged) or, when they cannot be read at all, a close code.

A socket lives no longer than its token: it is closed with 4401 when the token expires (unless the client sent
a fresh one in another auth frame before), and when its account is disabled, deleted, changed or logged out
(web/account_watch.py re-checks it within a moment of the change, in every process)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from typing import Any

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect

from command.admin.accounts import AccountCache
from command.assign.workers import PositionIn, register_from_db, submit_position
from command.core.errors import Forbidden, GridcmdError, NotAuthenticated
from command.core.outage import OUTAGES
from command.core.security import TokenClaims, verify_token
from command.core.settings import Settings
from command.realtime.stream import parse_id
from command.realtime.stream_scope import resolve_scope
from dispatch.presence import PositionResult
from web import ws_frames
from web.hub import Hub
from web.ws_client import Client
from web.ws_frames import AuthFrame, FrameError, PongFrame, PositionFrame, SubscribeFrame
from web.ws_transport import TRANSPORT, finish

router = APIRouter(tags=["realtime"])
log = logging.getLogger(__name__)


def _reason(text: str) -> str:
    """A close reason fits in 123 bytes of UTF-8."""
    return text.encode()[:120].decode(errors="ignore")


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    """Send the close frame and make sure the connection ends within ws_close_timeout_s: a peer that stopped
    reading blocks the close frame (and the drain of everything before it) forever, so it is then aborted
    (RST, web.ws_transport)."""
    deadline = asyncio.get_running_loop().time() + websocket.app.state.settings.ws_close_timeout_s
    with contextlib.suppress(TimeoutError, RuntimeError, WebSocketDisconnect, OSError):
        async with asyncio.timeout_at(deadline):
            await websocket.close(code=code, reason=_reason(reason))
    await finish(websocket.scope.get(TRANSPORT), deadline=deadline, why=f"close {code}")


async def _checked(websocket: WebSocket, token: str) -> TokenClaims:
    """The token's claims if it is ours, unexpired and still stands for its account as PostgreSQL has it now
    (NotAuthenticated else). Read fresh, not from the cache: a socket is opened or renewed once in a long while."""
    claims = verify_token(websocket.app.state.settings, token)
    cache: AccountCache = websocket.app.state.accounts
    async with websocket.app.state.sessionmaker() as session:
        await cache.check(session, claims, fresh=True)
    return claims


async def _authenticate(websocket: WebSocket, settings: Settings) -> TokenClaims | None:
    try:
        message = await asyncio.wait_for(websocket.receive(), settings.ws_auth_timeout_s)
    except TimeoutError:
        await _close(websocket, ws_frames.UNAUTHORIZED, "no auth frame in time")
        return None
    if message["type"] == "websocket.disconnect":
        return None
    try:
        frame = ws_frames.parse(message, max_bytes=settings.ws_max_frame_bytes)
    except FrameError as exc:
        await _close(websocket, exc.close_code or ws_frames.UNAUTHORIZED, f"auth frame expected: {exc.message}")
        return None
    if not isinstance(frame, AuthFrame):
        await _close(websocket, ws_frames.UNAUTHORIZED, 'the first frame must be {"type":"auth","token":...}')
        return None
    try:
        return await _checked(websocket, frame.token)
    except NotAuthenticated as exc:
        await _close(websocket, ws_frames.UNAUTHORIZED, exc.message)
        return None
    except Exception as exc:  # the account check needs PostgreSQL: away → 1013 (try again), a bug → 1011
        await _close(websocket, *failure_close(exc, "socket auth"))
        return None


def failure_close(exc: BaseException, where: str) -> tuple[int, str]:
    """The close for a frame whose handling failed: 1013 (try again later) when PostgreSQL or Redis is away,
    logged once per outage (command.core.outage); otherwise 1011 with the traceback, as for any bug."""
    if OUTAGES.note(exc, where=where):
        return ws_frames.TRY_AGAIN, "service unavailable: reconnect in a few seconds and resume"
    log.error("%s failed", where, exc_info=exc)
    return ws_frames.SERVER_ERROR, "server error"


# Position frames of one socket that may be in flight to Redis at once. The socket reads on meanwhile (a phone
# sending its backlog after a tunnel is not held to one Redis round trip per frame); beyond this many it waits for
# the oldest. Whatever the order Redis sees them in, the newest report of a worker is the one that stands
# (dispatch.position_batch merges a worker's waiting reports; report.lua never overwrites a newer one).
POSITIONS_IN_FLIGHT = 4


class Connection:
    """The frames of one authenticated socket, handled in order (position frames pipelined, see above)."""

    def __init__(self, websocket: WebSocket, client: Client, hub: Hub, settings: Settings,
                 claims: TokenClaims) -> None:
        self.websocket, self.client, self.hub, self.settings = websocket, client, hub, settings
        self.claims = claims
        self.positions: deque[asyncio.Future[PositionResult]] = deque()
        self.registering: asyncio.Task[None] | None = None
        self._expiry: asyncio.TimerHandle | None = None

    # -- the token's life ------------------------------------------------------------------------------------

    def revoke(self, reason: str) -> None:
        """The token no longer stands (expired, account changed, signed out): close with 4401."""
        self.client.fail(ws_frames.UNAUTHORIZED, reason)

    def arm_expiry(self) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
        delay = max(0.0, self.claims.expires_at - time.time())
        self._expiry = asyncio.get_running_loop().call_later(delay, self._expire)

    def disarm(self) -> None:
        if self._expiry is not None:
            self._expiry.cancel()

    def _expire(self) -> None:
        if self.claims.expires_at <= time.time():
            self.revoke("token expired: renew it before expiry with an auth frame")
        else:  # renewed meanwhile
            self.arm_expiry()

    async def renew(self, frame: AuthFrame) -> None:
        """A fresh token for the same account and scope: the socket lives until its expiry instead."""
        claims = await _checked(self.websocket, frame.token)
        if claims.principal != self.claims.principal:
            raise Forbidden("an auth frame on an open socket must carry a token of the same account and scope; "
                            "reconnect with it instead")
        self.claims = claims
        self.arm_expiry()
        self.client.send(ws_frames.text({"type": "renewed", "expires_at": int(claims.expires_at)}))

    async def report_position(self, frame: PositionFrame) -> None:
        """A worker's position frame: the same service as POST /api/v1/workers/me/position (command.assign.workers).
        A bad frame raises at once (nothing sent); Redis's answer is handled when it comes (`_answered`)."""
        position = PositionIn(lon=frame.lon, lat=frame.lat, crs=frame.crs.value, ts=frame.ts)
        sent = submit_position(self.websocket.app.state.redis, principal=self.client.principal,
                               positions=[position], now=time.time())
        sent.add_done_callback(self._answered)
        self.positions.append(sent)
        while self.positions and self.positions[0].done():
            self.positions.popleft()
        if len(self.positions) >= POSITIONS_IN_FLIGHT:
            await asyncio.wait([self.positions.popleft()])

    def _answered(self, sent: asyncio.Future[PositionResult]) -> None:
        if sent.cancelled():
            return
        exc = sent.exception()
        if exc is not None:  # Redis failed: as for any broken frame handler, say so and close (the phone retries)
            self.client.fail(*failure_close(exc, "storing a position"))
        elif not sent.result().registered and self.registering is None:
            self.registering = asyncio.create_task(self._register())

    async def _register(self) -> None:
        """A worker Redis did not know (new, or after a rebuild): live state from PostgreSQL, once."""
        state = self.websocket.app.state
        try:
            await register_from_db(state.sessionmaker, state.redis, self.client.principal.worker_id)
        except GridcmdError as exc:  # e.g. the worker record is gone
            self.client.send(ws_frames.error(exc.code, exc.message))
        except Exception as exc:
            self.client.fail(*failure_close(exc, f"registering worker {self.client.principal.worker_id}"))
        finally:
            self.registering = None

    async def receive_loop(self) -> None:
        bad = 0
        while True:
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                self.client.disconnected = True
                return
            self.client.last_seen = time.monotonic()
            try:
                frame = ws_frames.parse(message, max_bytes=self.settings.ws_max_frame_bytes)
                await self.handle(frame)
                bad = 0
            except (FrameError, GridcmdError) as exc:
                close_code = getattr(exc, "close_code", None)
                if close_code is not None:
                    self.client.fail(close_code, exc.message)
                    return
                bad += 1
                self.client.send(ws_frames.error(exc.code, exc.message))
                if bad >= ws_frames.MAX_BAD_FRAMES:
                    self.client.fail(ws_frames.POLICY, "too many bad frames")
                    return

    async def handle(self, frame: Any) -> None:
        if isinstance(frame, PongFrame):
            return
        if isinstance(frame, AuthFrame):
            await self.renew(frame)
            return
        if isinstance(frame, PositionFrame):
            await self.report_position(frame)
            return
        assert isinstance(frame, SubscribeFrame)
        if frame.last_event_id is not None:
            parse_id(frame.last_event_id)  # InvalidInput before anything changes
        cache: AccountCache = self.websocket.app.state.accounts
        async with self.websocket.app.state.sessionmaker() as session:
            try:  # the scope is the account's as it is now, not as it was when the socket opened
                await cache.check(session, self.claims, fresh=True)
            except NotAuthenticated as exc:
                self.revoke(exc.message)
                return
            scope = await resolve_scope(session, principal=self.client.principal, region=frame.region)
        self.client.batch = frame.batch
        self.client.send(ws_frames.text({"type": "subscribed", "scope": scope.describe(),
                                         "last_event_id": frame.last_event_id, "batch": frame.batch}))
        await self.hub.subscribe(self.client, scope, frame.last_event_id)
        self.client.send(ws_frames.text({"type": "live", "id": self.client.cursor_id}))


@router.websocket("/ws")
async def websocket_feed(websocket: WebSocket) -> None:
    settings: Settings = websocket.app.state.settings
    hub: Hub = websocket.app.state.hub
    await websocket.accept()
    claims = await _authenticate(websocket, settings)
    if claims is None:
        return
    principal = claims.principal
    client = Client(websocket, principal, queue_size=settings.ws_queue_size)
    hub.register(client)
    client.send(ws_frames.text({
        "type": "hello", "role": principal.role, "username": principal.username,
        "region_code": principal.region_code, "department_code": principal.department_code,
        "worker_id": principal.worker_id, "ping_interval_s": settings.ws_ping_interval_s,
        "expires_at": int(claims.expires_at),
    }))
    connection = Connection(websocket, client, hub, settings, claims)
    watch = websocket.app.state.account_watch
    watch.register(connection)
    connection.arm_expiry()
    tasks = [asyncio.create_task(client.sender()), asyncio.create_task(connection.receive_loop()),
             asyncio.create_task(client.done.wait())]
    try:
        finished, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in finished:
            exc = task.exception()
            if exc is not None and not client.disconnected and client.close_code is None:
                if task is tasks[1]:  # the frame handler broke (a bug, PostgreSQL down…): say so
                    client.fail(*failure_close(exc, "websocket frame handling"))
                else:  # the sender: the peer is gone
                    client.disconnected = True
    finally:
        connection.disarm()
        watch.unregister(connection)
        hub.unregister(client)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    if not client.disconnected:
        code = client.close_code if client.close_code is not None else ws_frames.NORMAL
        await _close(websocket, code, client.close_reason or "bye")
    else:  # the peer's close, or the server's shutdown: the reply or the 1012 must still get out, or be dropped
        await finish(websocket.scope.get(TRANSPORT), why="disconnect",
                     deadline=asyncio.get_running_loop().time() + settings.ws_close_timeout_s)
