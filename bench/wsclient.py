"""Real WebSocket receivers (the `websockets` client): a worker's phone or a wall display on /ws.

Each receiver authenticates with its token (first frame), optionally subscribes to a region, answers pings, and
records when the first event about each incident arrived (time.perf_counter(), the same clock the senders use).
They subscribe with `batch` as the pages do (web/static/app/socket.js): the frames of one transaction come as one."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from dataclasses import dataclass, field

import orjson
from websockets.asyncio.client import ClientConnection, connect

CONNECT_TIMEOUT_S = 20.0


def incident_id(event: dict) -> int | None:
    payload = event.get("payload") or {}
    inc = payload.get("incident")
    if isinstance(inc, dict) and inc.get("id") is not None:
        return int(inc["id"])
    order = payload.get("order")
    if isinstance(order, dict) and order.get("incident_id") is not None:
        return int(order["incident_id"])
    if event.get("incident_id") is not None:
        return int(event["incident_id"])
    return None


@dataclass
class Receiver:
    name: str
    ws: ClientConnection
    first_seen: dict[int, float] = field(default_factory=dict)  # incident id → arrival (perf_counter)
    event_ids: Counter[int] = field(default_factory=Counter)  # PostgreSQL event id → frames (duplicates show)
    kinds: dict[str, int] = field(default_factory=dict)
    frames: int = 0
    errors: list[str] = field(default_factory=list)
    task: asyncio.Task | None = None

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                now = time.perf_counter()
                self.frames += 1
                msg = orjson.loads(raw)
                for frame in msg.get("frames") or () if msg.get("type") == "batch" else (msg,):
                    await self._frame(frame, now)
        except Exception as exc:  # a closed socket ends the reader; the report counts what arrived
            self.errors.append(f"{type(exc).__name__}: {exc}"[:300])

    async def _frame(self, msg: dict, now: float) -> None:
        kind = msg.get("type")
        if kind == "ping":
            await self.ws.send('{"type":"pong"}')
        elif kind == "event":
            ev = msg.get("event") or {}
            k = str(ev.get("kind"))
            self.kinds[k] = self.kinds.get(k, 0) + 1
            if ev.get("pg_id") is not None:
                self.event_ids[int(ev["pg_id"])] += 1
            inc = incident_id(ev)
            if inc is not None and inc not in self.first_seen:
                self.first_seen[inc] = now
        elif kind == "error":
            self.errors.append(str(msg)[:300])

    async def send_json(self, obj: dict) -> None:
        await self.ws.send(orjson.dumps(obj).decode())

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.ws.close()
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(BaseException):
                await self.task


async def open_receiver(base_url: str, token: str, *, name: str, region: str | None = None,
                        subscribe: bool = False, batch: bool = True) -> Receiver:
    url = base_url.replace("http://", "ws://") + "/ws"
    ws = await asyncio.wait_for(connect(url, max_size=1 << 20, open_timeout=CONNECT_TIMEOUT_S,
                                        ping_interval=None, compression=None), CONNECT_TIMEOUT_S)
    await ws.send(orjson.dumps({"type": "auth", "token": token}).decode())
    if subscribe:
        await ws.send(orjson.dumps({"type": "subscribe", "region": region, "batch": batch}).decode())
    r = Receiver(name, ws)
    r.task = asyncio.create_task(r._read())
    return r


async def open_many(specs: list[tuple[str, str, str, str | None, bool]], *, concurrency: int = 50) -> list[Receiver]:
    """specs: (base_url, token, name, region, subscribe). Opened `concurrency` at a time."""
    sem = asyncio.Semaphore(concurrency)

    async def one(spec: tuple[str, str, str, str | None, bool]) -> Receiver:
        async with sem:
            base, token, name, region, sub = spec
            return await open_receiver(base, token, name=name, region=region, subscribe=sub)

    return list(await asyncio.gather(*(one(s) for s in specs)))


async def close_all(receivers: list[Receiver]) -> None:
    await asyncio.gather(*(r.close() for r in receivers))
