"""The transport floor: the thinnest app on the same stack that does an alert's unavoidable non-database work.

`uvicorn bench.floor_app:app`, run exactly as the real app is (bench.server.start). Per alert it verifies the
bearer token (command.core.security.read_token), validates the body with the real endpoint's own model
(web.api.alerts.AlertBody), runs one GEOSEARCH for the nearest worker on the dispatcher's GEO key, one INCR for
an incident id and one XADD of a small JSON event to a floor-only stream, and answers 201. Each process runs one
XREAD loop on that stream and fans every event out to its own sockets (the same /ws client protocol, the same
Starlette WebSocket under uvicorn, a bounded queue and a sender task per socket as the real hub has): to the
assigned worker's socket, and to every display whose subscribed region is a prefix of the worker's grid code.

No PostgreSQL per alert: the worker → grid code map is read once at startup (the floor cannot locate an alert
without PostGIS; the alert is raised a metre from the worker, so the worker's grid stands for the alert's).
What the benchmark compares the real app with (bench.run, phase e2e_floor; docs/benchmarks.md)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import numpy as np
import orjson
from fastapi import FastAPI, Header, WebSocket
from fastapi.responses import Response
from redis.asyncio import BlockingConnectionPool, ConnectionPool, Redis
from redis.exceptions import RedisError
from sqlalchemy import text
from starlette.websockets import WebSocketDisconnect

from bench.phase_assign import FIRST_RADIUS_M
from command.core.db import make_engine
from command.core.errors import NotAuthenticated
from command.core.security import Principal, read_token
from command.core.settings import Settings
from dispatch import keys
from web.api.alerts import AlertBody

log = logging.getLogger(__name__)

INCIDENT_SEQ = f"{keys.TAG}:floor:incident"  # floor-only keys: nothing of the real app's state is touched
STREAM = f"{keys.TAG}:floor:events"
STREAM_MAXLEN = 10_000
RADIUS_M = FIRST_RADIUS_M  # the radius of the redis-benchmark GEOSEARCH floor (bench.phase_assign)
ALERT_ROLES = frozenset({"admin", "operator", "supervisor", "worker"})
BLOCK_MS = 2000
READ_COUNT = 500
QUEUE_SIZE = 512  # frames queued for one socket before it is closed (the real app's ws_queue_size default)
RESUME = 4000
UNAUTHORIZED = 4401
JSON = "application/json"
# Redis connections per process for the requests. A blocking pool: past this many commands in flight a request
# waits for a connection (redis-py's plain pool, 100 by default, raises MaxConnectionsError → 500 instead, which
# the first province runs hit in the burst after a stop-the-world pause of the driver and both processes).
REDIS_CONNECTIONS = 100


class Sock:
    """One authenticated socket: frames are enqueued by the fan-out (never awaited) and sent by its own task."""

    __slots__ = ("closed", "queue", "region", "worker_id", "ws")

    def __init__(self, ws: WebSocket, worker_id: int | None) -> None:
        self.ws = ws
        self.queue: asyncio.Queue[str] = asyncio.Queue(maxsize=QUEUE_SIZE)
        self.worker_id = worker_id
        self.region: str | None = None
        self.closed = False

    def send(self, frame: str) -> None:
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            self.closed = True  # too slow: the endpoint drops it (as the real app closes it with 4000)

    async def sender(self) -> None:
        while not self.closed:
            await self.ws.send_text(await self.queue.get())
        with contextlib.suppress(Exception):
            await self.ws.close(code=RESUME)


class Fanout:
    """Sockets by worker id and by subscribed region; one XREAD loop on the floor stream feeds them."""

    def __init__(self) -> None:
        self.by_worker: dict[int, set[Sock]] = {}
        self.by_region: dict[str, set[Sock]] = {}
        self.lengths: tuple[int, ...] = ()  # distinct lengths of the subscribed regions: prefixes to look up

    def add(self, index: dict, key: object, sock: Sock) -> None:
        index.setdefault(key, set()).add(sock)
        self.lengths = tuple(sorted({len(k) for k in self.by_region}))

    def remove(self, sock: Sock) -> None:
        for index, key in ((self.by_worker, sock.worker_id), (self.by_region, sock.region)):
            members = index.get(key)
            if members is not None:
                members.discard(sock)
                if not members:
                    del index[key]
        self.lengths = tuple(sorted({len(k) for k in self.by_region}))

    def dispatch(self, raw: str) -> None:
        event = orjson.loads(raw)
        frame = '{"type":"event","event":' + raw + "}"
        targets: set[Sock] = set()
        wid = event.get("worker_id")
        if wid is not None:
            targets.update(self.by_worker.get(wid, ()))
        code = event.get("region")
        if code:
            for n in self.lengths:
                targets.update(self.by_region.get(code[:n], ()))
        for sock in targets:
            sock.send(frame)

    async def read_loop(self, reader: Redis, after: str, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            try:
                reply = await reader.xread({STREAM: after}, count=READ_COUNT, block=BLOCK_MS)
            except (RedisError, OSError) as exc:
                if stopping.is_set():
                    return
                log.warning("floor: reading the stream failed, retrying: %s", exc)
                await asyncio.sleep(0.5)
                continue
            for _key, items in reply or []:
                for entry_id, fields in items:
                    after = entry_id
                    try:
                        self.dispatch(fields["e"])
                    except Exception:
                        log.exception("floor: cannot dispatch %s", entry_id)


async def load_grid_codes(settings: Settings) -> np.ndarray:
    """Worker id → first grid code (bytes; b"" for none), read once: startup work, not per-alert work."""
    engine = make_engine(settings, pool_size=1)
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(text(
                "SELECT id, grid_codes[1] FROM workers WHERE cardinality(grid_codes) > 0"))).all()
    finally:
        await engine.dispose()
    if not rows:
        return np.zeros(1, dtype="S1")
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    codes = np.array([r[1].encode() for r in rows])
    out = np.zeros(int(ids.max()) + 1, dtype=codes.dtype)
    out[ids] = codes
    return out


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    fan = Fanout()
    state: dict = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state["codes"] = await load_grid_codes(settings)
        state["redis"] = Redis(connection_pool=BlockingConnectionPool.from_url(
            settings.redis_url, decode_responses=True, max_connections=REDIS_CONNECTIONS, timeout=30))
        reader = Redis(connection_pool=ConnectionPool.from_url(settings.redis_url, decode_responses=True))
        tail = await reader.xrevrange(STREAM, count=1)  # live from here (the stream may hold an older run's)
        stopping = asyncio.Event()
        task = asyncio.create_task(fan.read_loop(reader, tail[0][0] if tail else "0-0", stopping))
        gc.freeze()  # as web/app.py does: no tuning the real app lacks
        try:
            yield
        finally:
            stopping.set()
            with contextlib.suppress(Exception):
                await reader.aclose(close_connection_pool=True)  # ends a blocked XREAD at once
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
            await state["redis"].aclose(close_connection_pool=True)

    app = FastAPI(title="gridcmd transport floor", lifespan=lifespan)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict:
        return {"ok": True}

    @app.post("/api/v1/alerts", status_code=201)
    async def post_alert(body: AlertBody, authorization: str | None = Header(None)) -> Response:
        scheme, _, token = (authorization or "").partition(" ")
        try:
            if scheme.lower() != "bearer" or not token:
                raise NotAuthenticated("missing bearer token")
            principal = read_token(settings, token)
        except NotAuthenticated as exc:
            return Response(orjson.dumps({"error": {"code": exc.code, "message": exc.message}}), 401,
                            media_type=JSON)
        if principal.role not in ALERT_ROLES or (principal.role == "worker" and body.channel != "patrol"):
            return Response(b'{"error":{"code":"forbidden"}}', 403, media_type=JSON)
        redis: Redis = state["redis"]
        hits = await redis.geosearch(keys.POSITIONS, longitude=body.lon, latitude=body.lat, radius=RADIUS_M,
                                     unit="m", sort="ASC", count=1)
        iid = await redis.incr(INCIDENT_SEQ)
        wid = int(hits[0]) if hits else None
        codes: np.ndarray = state["codes"]
        region = codes[wid].decode() if wid is not None and wid < len(codes) else ""
        await redis.xadd(STREAM, {"e": orjson.dumps({"kind": "order.offered", "incident_id": iid, "worker_id": wid,
                                                     "region": region or None})},
                         maxlen=STREAM_MAXLEN, approximate=True)
        orders = [{"worker_id": wid}] if wid is not None else []
        return Response(orjson.dumps({"incident": {"id": iid}, "orders": orders}), 201, media_type=JSON)

    @app.websocket("/ws")
    async def ws_feed(websocket: WebSocket) -> None:
        await websocket.accept()
        principal = await _authenticate(websocket, settings)
        if principal is None:
            return
        sock = Sock(websocket, principal.worker_id)
        if sock.worker_id is not None:
            fan.add(fan.by_worker, sock.worker_id, sock)
        sender = asyncio.create_task(sock.sender())
        try:
            while not sender.done():
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    return
                with contextlib.suppress(orjson.JSONDecodeError):
                    frame = orjson.loads(message.get("text") or "null")
                    if isinstance(frame, dict) and frame.get("type") == "subscribe":
                        _subscribe(fan, sock, principal, frame.get("region"))
                # pongs and anything else: nothing to do (the floor sends no pings)
        except WebSocketDisconnect:
            return
        finally:
            fan.remove(sock)
            sender.cancel()
            with contextlib.suppress(BaseException):
                await sender

    return app


async def _authenticate(websocket: WebSocket, settings: Settings) -> Principal | None:
    try:
        raw = await asyncio.wait_for(websocket.receive_text(), settings.ws_auth_timeout_s)
        frame = orjson.loads(raw)
        if not isinstance(frame, dict) or frame.get("type") != "auth":
            raise NotAuthenticated("the first frame must be auth")
        return read_token(settings, str(frame.get("token") or ""))
    except WebSocketDisconnect:
        return None
    except Exception:
        with contextlib.suppress(Exception):
            await websocket.close(code=UNAUTHORIZED)
        return None


def _subscribe(fan: Fanout, sock: Sock, principal: Principal, region: object) -> None:
    """A display's region: its own or one inside it (an admin's: any). Workers get their own orders only."""
    region = region if isinstance(region, str) and region else principal.region_code
    if region is None or principal.role == "worker":
        return
    if principal.role != "admin" and not (principal.region_code and region.startswith(principal.region_code)):
        sock.send('{"type":"error","code":"forbidden","message":"region out of scope"}')
        return
    fan.remove(sock)
    sock.region = region
    if sock.worker_id is not None:
        fan.add(fan.by_worker, sock.worker_id, sock)
    fan.add(fan.by_region, region, sock)


app = create_app()
