"""The /ws frame protocol: client frames (parsed and validated here), server frames, close codes.

Every frame is one JSON object with a "type" (docs/realtime.md has the whole protocol)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, StrictBool, TypeAdapter, ValidationError

from geo.coords import Crs
from web.request_types import Instant, Lat, Lon, SafeLine

# Close codes. 1xxx are the standard ones; 4xxx are ours (RFC 6455 leaves 4000-4999 to applications).
NORMAL = 1000
UNSUPPORTED = 1003      # a binary frame: the protocol is JSON text
INVALID_DATA = 1007     # a text frame that is not JSON
POLICY = 1008           # too many bad frames in a row
TOO_BIG = 1009          # a frame over ws_max_frame_bytes (uvicorn's --ws-max-size closes with it too)
SERVER_ERROR = 1011
RESTART = 1012          # the server is shutting down: reconnect (to another process) and resume
TRY_AGAIN = 1013        # PostgreSQL or Redis is unavailable right now: reconnect after a while and resume
RESUME = 4000           # this client fell too far behind (send queue full): reconnect with last_event_id
UNAUTHORIZED = 4401     # missing, bad or expired token, no auth frame in time, or the account no longer allows it
HEARTBEAT = 4408        # no frame (pong) from the client for two ping intervals

MAX_BAD_FRAMES = 20     # consecutive bad frames before POLICY: a broken client is not kept talking forever


class _Frame(BaseModel):
    model_config = ConfigDict(extra="ignore", str_max_length=4096)


class AuthFrame(_Frame):
    type: Literal["auth"]
    token: str = Field(min_length=1)


class SubscribeFrame(_Frame):
    type: Literal["subscribe"]
    region: SafeLine | None = Field(None, min_length=1, max_length=64)
    last_event_id: SafeLine | None = Field(None, max_length=48)
    batch: StrictBool = Field(False, description="frames waiting together are sent as one batch frame")


class PositionFrame(_Frame):
    type: Literal["position"]
    lon: Lon  # finite JSON numbers, never booleans (web.request_types)
    lat: Lat
    crs: Crs = Crs.wgs84
    ts: Instant | None = Field(None, description="time of the fix (ISO 8601 with zone, or unix s); now if absent")


class PongFrame(_Frame):
    type: Literal["pong"]


ClientFrame = Annotated[AuthFrame | SubscribeFrame | PositionFrame | PongFrame, Field(discriminator="type")]
_adapter: TypeAdapter[ClientFrame] = TypeAdapter(ClientFrame)
KNOWN_TYPES = ("auth", "subscribe", "position", "pong")


class FrameError(Exception):
    """A frame we cannot use. `close_code` set: the connection ends; else an error frame answers it."""

    def __init__(self, code: str, message: str, *, close_code: int | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.close_code = code, message, close_code


def parse(message: dict[str, Any], *, max_bytes: int) -> AuthFrame | SubscribeFrame | PositionFrame | PongFrame:
    """An ASGI websocket.receive message → a validated frame, or FrameError."""
    raw = message.get("text")
    if raw is None:
        raise FrameError("binary_frame", "frames are JSON text, not binary", close_code=UNSUPPORTED)
    if len(raw) > max_bytes or len(raw.encode()) > max_bytes:  # uvicorn's --ws-max-size should stop it first
        raise FrameError("too_big", f"frame over {max_bytes} bytes", close_code=TOO_BIG)
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise FrameError("malformed_json", f"not JSON: {exc}", close_code=INVALID_DATA) from exc
    if not isinstance(data, dict):
        raise FrameError("bad_frame", "a frame is a JSON object with a \"type\"")
    kind = data.get("type")
    if kind not in KNOWN_TYPES:
        raise FrameError("unknown_type", f"unknown frame type {kind!r}; expected one of {', '.join(KNOWN_TYPES)}")
    try:
        return _adapter.validate_python(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:]) or 'frame'}: {e['msg']}" for e in exc.errors())
        raise FrameError("bad_frame", f"bad {kind} frame: {problems}") from exc


def text(frame: dict[str, Any]) -> str:
    return orjson.dumps(frame).decode()


def error(code: str, message: str) -> str:
    return text({"type": "error", "code": code, "message": message})


PING = text({"type": "ping"})
MAX_BATCH = 64  # frames in one batch frame (event frames are ~1 kB: a batch stays well under a client's 1 MiB)


def batch(texts: list[str]) -> str:
    """Frames that waited together as one `{"type":"batch","frames":[…]}` frame, in order: each is already JSON
    text, so they are joined, not serialized again."""
    return '{"type":"batch","frames":[' + ",".join(texts) + "]}"
