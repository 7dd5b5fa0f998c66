"""The live event stream in Redis: one Stream every web process reads, fed from the PostgreSQL event log.

An entry's Redis id (`<ms>-<seq>`) is the event id clients see and resume from; the entry also carries the
PostgreSQL event id (`pg_id`). Entries are appended by `publish` (after a commit) and by the relay
(command/realtime/relay.py), both through stream_publish.lua, so a PostgreSQL event is in the stream at most once.
A stream created from nothing (first use, or a flushed Redis) starts with an entry of kind `stream.epoch`;
a reader whose position is older than what the stream still holds gets `reset` (docs/realtime.md)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.exceptions import ResponseError
from redis.typing import EncodableT

from command.core.errors import InvalidInput
from command.core.logctx import REQUEST_ID
from command.core.models import Event
from command.core.redis_client import as_cluster
from dispatch import keys
from dispatch.scripts import script

# Key names: dispatch.keys (STREAM, PUBLISHED, WATERMARK, RELAY_LOCK), the one module that names Redis keys.

EPOCH_KIND = "stream.epoch"
DEFAULT_MAXLEN = 250_000
_ID = re.compile(r"^(\d{1,20})-(\d{1,20})$")


def parse_id(value: str) -> tuple[int, int]:
    """A stream id as a comparable pair; InvalidInput if it is not `<ms>-<seq>`."""
    match = _ID.match(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidInput(f"not an event id: {value!r} (expected <ms>-<seq>, e.g. 1700000000000-0)")
    return int(match[1]), int(match[2])


@dataclass(slots=True)
class StreamEntry:
    """One entry as read back: the routing fields the hub filters on and the event a client receives."""

    id: str
    kind: str
    pg_id: int | None = None
    incident_id: int | None = None
    order_id: int | None = None
    worker_id: int | None = None
    department_code: str | None = None
    region_path: list[str] = field(default_factory=list)
    event: dict[str, Any] = field(default_factory=dict)
    request_id: str | None = None  # of the request (or job) that made the event: for log lines, not in the frame
    key: tuple[int, int] = (0, 0)  # the id as a comparable pair
    _text: str | None = None

    def __post_init__(self) -> None:
        self.key = parse_id(self.id)

    @property
    def is_epoch(self) -> bool:
        return self.kind == EPOCH_KIND

    def frame(self) -> dict[str, Any]:
        return {"type": "event", "id": self.id, "event": self.event}

    def frame_text(self) -> str:
        """The client frame as JSON text, built once however many sockets receive it."""
        if self._text is None:
            self._text = orjson.dumps(self.frame()).decode()
        return self._text


@dataclass(slots=True)
class Page:
    """Entries after a position, and whether the position is still usable (`reset` when it is not)."""

    entries: list[StreamEntry]
    reset: bool
    tail: str  # the stream's last generated id ("0-0" when the stream does not exist)


def _opt(value: object) -> str:
    return "" if value is None else str(value)


def encode(event: Event) -> list[str]:
    """The entry's field, value pairs (flattened) for a committed event."""
    created = event.created_at.isoformat() if event.created_at is not None else ""
    return [
        "pg_id", str(event.id), "kind", event.kind, "incident_id", _opt(event.incident_id),
        "order_id", _opt(event.order_id), "worker_id", _opt(event.worker_id),
        "department_code", _opt(event.department_code),
        "region_path", orjson.dumps(list(event.region_path or [])).decode(),
        "actor", event.actor or "", "from_state", _opt(event.from_state), "to_state", _opt(event.to_state),
        "reason", _opt(event.reason), "created_at", created,
        "payload", orjson.dumps(event.payload or {}).decode(),
        # Meta, not part of the frame: the publishing request's id, so the hubs' log lines can be followed back.
        "request_id", REQUEST_ID.get() or "",
    ]


def _int(value: str | None) -> int | None:
    return int(value) if value else None


def decode(entry_id: str, fields: dict[str, str]) -> StreamEntry:
    kind = fields.get("kind", "")
    if kind == EPOCH_KIND or "pg_id" not in fields:
        return StreamEntry(id=entry_id, kind=kind or EPOCH_KIND)
    region_path = orjson.loads(fields.get("region_path") or "[]")
    entry = StreamEntry(
        id=entry_id, kind=kind, pg_id=_int(fields["pg_id"]), incident_id=_int(fields.get("incident_id")),
        order_id=_int(fields.get("order_id")), worker_id=_int(fields.get("worker_id")),
        department_code=fields.get("department_code") or None, region_path=region_path,
        request_id=fields.get("request_id") or None,
    )
    entry.event = {
        "pg_id": entry.pg_id, "kind": kind, "incident_id": entry.incident_id, "order_id": entry.order_id,
        "worker_id": entry.worker_id, "department_code": entry.department_code, "region_path": region_path,
        "actor": fields.get("actor") or None, "from_state": fields.get("from_state") or None,
        "to_state": fields.get("to_state") or None, "reason": fields.get("reason") or None,
        "created_at": fields.get("created_at") or None, "payload": orjson.loads(fields.get("payload") or "{}"),
    }
    return entry


async def publish(redis: Redis, events: Sequence[Event], *, maxlen: int = DEFAULT_MAXLEN) -> list[str | None]:
    """XADD committed events, in order, with one script call; the new entry ids, None for events already
    published."""
    if not events:
        return []
    args: list[EncodableT] = [maxlen]
    for event in events:
        fields = encode(event)
        args += [event.id, event.txid, len(fields), *fields]
    results = await script(redis, "stream_publish")(keys=[keys.STREAM, keys.PUBLISHED, keys.WATERMARK], args=args)
    return [r or None for r in results]


async def advance_watermark(redis: Redis, txid: int) -> bool:
    return bool(await script(redis, "stream_advance")(keys=[keys.WATERMARK, keys.PUBLISHED], args=[txid]))


async def tail_id(redis: Redis) -> str:
    """The stream's last generated id; "0-0" if the stream does not exist."""
    try:
        info = await redis.xinfo_stream(keys.STREAM)
    except ResponseError:
        return "0-0"
    last: str = info["last-generated-id"]
    return last


async def read_new(redis: Redis, after: str, *, count: int, block_ms: int) -> Any:
    """XREAD: up to `count` entries after `after`, waiting up to block_ms for the first (redis-py's reply).

    On a Redis Cluster the command is sent to the master owning the stream by name. redis-py finds XREAD's key with
    COMMAND GETKEYS on the node that was its default when it learnt the slots; once that node is dead, every XREAD
    fails before it is sent, even after the cluster has promoted a replica (a probe: 18 s of failures, to its end;
    with the node named, one failure during the switch). The hub's reader would have stopped feeding sockets."""
    cluster = as_cluster(redis)
    if cluster is None:
        return await redis.xread({keys.STREAM: after}, count=count, block=block_ms)
    await cluster.initialize()  # at once when the slots are known; again after an error made the client forget them
    return await cluster.execute_command("XREAD", "COUNT", count, "BLOCK", block_ms, "STREAMS", keys.STREAM, after,
                                         target_nodes=cluster.get_node_from_key(keys.STREAM))


async def read_after(redis: Redis, after: str, *, count: int = 500) -> Page:
    """Up to `count` entries after `after`, read atomically with the stream's state.

    `reset` is True when entries after `after` may be gone: the stream does not exist (flushed), `after` was
    never generated by this stream (past its tail: an older incarnation), or `after` is older than the oldest
    entry kept (trimmed). Reading a `stream.epoch` entry also means the stream was re-created (callers check)."""
    position = parse_id(after)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.xrange(keys.STREAM, min=f"({after}", max="+", count=count)
        pipe.xinfo_stream(keys.STREAM)
        found, info = await pipe.execute(raise_on_error=False)
    if isinstance(info, ResponseError):
        return Page(entries=[], reset=True, tail="0-0")
    tail = info["last-generated-id"]
    first = info["first-entry"][0] if info.get("first-entry") else tail
    # Trimming does not move max-deleted-entry-id (Redis 7.0), so: a position older than the oldest entry
    # still held may have had entries after it trimmed. (If only the position itself was trimmed this resets
    # for nothing; that errs on the safe side.)
    if position > parse_id(tail) or position < parse_id(first):
        return Page(entries=[], reset=True, tail=tail)
    return Page(entries=[decode(i, f) for i, f in found], reset=False, tail=tail)
