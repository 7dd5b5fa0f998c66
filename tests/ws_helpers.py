"""A small WebSocket test client over the `websockets` library: connect + auth, subscribe, read frames
(answering pings), collect events, expect a close code."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

OPEN: list[ClientConnection] = []


async def close_all() -> None:
    """Close every socket open_ws opened (servers then shut down without waiting for their close handshakes)."""
    while OPEN:
        ws = OPEN.pop()
        _PENDING.pop(id(ws), None)
        await ws.close()


async def open_ws(port: int, token: str | None = None, **kwargs: Any) -> ClientConnection:
    """Connect to /ws; with a token, authenticate and consume the hello frame."""
    ws = await connect(f"ws://127.0.0.1:{port}/ws", open_timeout=5, max_size=None, **kwargs)
    OPEN.append(ws)
    if token is not None:
        await ws.send(json.dumps({"type": "auth", "token": token}))
        hello = await recv(ws)
        assert hello["type"] == "hello", hello
    return ws


# Frames of a batch frame not returned yet, per socket (a batching subscription: {"type":"batch","frames":[…]}).
_PENDING: dict[int, list[dict]] = {}


async def recv(ws: ClientConnection, within: float = 3.0) -> dict:
    """The next frame that is not a ping (pings are answered); a batch frame's frames one by one."""
    deadline = time.monotonic() + within
    while True:
        pending = _PENDING.get(id(ws))
        if pending:
            frame = pending.pop(0)
        else:
            raw = await asyncio.wait_for(ws.recv(), max(0.01, deadline - time.monotonic()))
            frame = json.loads(raw)
            if frame.get("type") == "batch":
                _PENDING[id(ws)] = list(frame["frames"])
                continue
        if frame.get("type") == "ping":
            await ws.send('{"type":"pong"}')
            continue
        return frame


async def subscribe(ws: ClientConnection, region: str | None = None, last_event_id: str | None = None,
                    within: float = 5.0, batch: bool = False) -> tuple[dict, list[dict], dict]:
    """Send subscribe; return (subscribed frame, frames of the catch-up, the live frame)."""
    frame: dict[str, Any] = {"type": "subscribe"}
    if batch:
        frame["batch"] = True
    if region is not None:
        frame["region"] = region
    if last_event_id is not None:
        frame["last_event_id"] = last_event_id
    await ws.send(json.dumps(frame))
    first = await recv(ws, within)
    assert first["type"] == "subscribed", first
    caught_up: list[dict] = []
    while True:
        got = await recv(ws, within)
        if got["type"] == "live":
            return first, caught_up, got
        caught_up.append(got)


async def events(ws: ClientConnection, n: int, within: float = 5.0) -> list[dict]:
    """The next n event frames (other frames are returned too if they come: the caller asserts)."""
    out: list[dict] = []
    deadline = time.monotonic() + within
    while len(out) < n:
        out.append(await recv(ws, max(0.01, deadline - time.monotonic())))
    return out


async def silent(ws: ClientConnection, seconds: float) -> list[dict]:
    """Frames (pings excluded) received within `seconds`: [] means nothing came."""
    got: list[dict] = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            got.append(await recv(ws, left))
        except TimeoutError:
            break
    return got


async def closed_with(ws: ClientConnection, within: float = 5.0) -> tuple[int | None, list[dict]]:
    """Read until the server closes; the close code and the frames received before it."""
    frames: list[dict] = []
    deadline = time.monotonic() + within
    try:
        while True:
            raw = await asyncio.wait_for(ws.recv(), max(0.01, deadline - time.monotonic()))
            frames.append(json.loads(raw))
    except ConnectionClosed as exc:
        return (exc.rcvd.code if exc.rcvd else None), frames
