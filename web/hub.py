"""The WebSocket hub, one per web process: ONE blocking XREAD loop on the event stream, fanned out in-process.

Entries reach the clients whose scope they match through indexes (region code, worker id, department code,
followed incident), so an entry costs what its audience costs, not one check per socket. Fan-out only enqueues
(Client.deliver); heartbeats ping every ws_ping_interval_s and close sockets silent for two intervals.
`install(app)` registers the hub and the relay (command/relay.py) with the app's lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable

from fastapi import FastAPI
from redis.asyncio import ConnectionPool, Redis
from redis.exceptions import RedisError

from command import stream
from command.relay import run_relay
from command.settings import Settings
from command.stream import StreamEntry
from web import ws_frames
from web.ws_client import Client

log = logging.getLogger(__name__)

_BLOCK_MS = 2000  # below redis-py's default 5 s socket timeout, which would cut a longer block
_COUNT = 500  # at most; also at most half a socket's queue, so one read can never overflow a client that keeps up


class Hub:
    def __init__(self, redis: Redis, settings: Settings) -> None:
        self.redis = redis
        self.settings = settings
        self.position: tuple[int, int] = (0, 0)
        self.position_id = "0-0"
        self._fresh = True  # started on a missing stream: its first epoch entry is not a flush
        self.clients: set[Client] = set()
        self.everything: set[Client] = set()
        self.catching_up: set[Client] = set()
        self.by_region: defaultdict[str, set[Client]] = defaultdict(set)
        self.by_worker: defaultdict[int, set[Client]] = defaultdict(set)
        self.by_department: defaultdict[str, set[Client]] = defaultdict(set)
        self.by_incident: defaultdict[int, set[Client]] = defaultdict(set)
        self._tasks: list[asyncio.Task] = []
        self._stopping = False  # loops check it: a cancelled Redis call may surface as a connection error
        self._count = max(1, min(_COUNT, settings.ws_queue_size // 2))

    async def start(self) -> None:
        # The blocking XREAD gets a connection of its own: stop() closes it to end a read at once, because
        # cancelling redis-py in the middle of a blocking read can leave the task hanging in "cancelling".
        self._reader = Redis(connection_pool=ConnectionPool.from_url(self.settings.redis_url, decode_responses=True))
        self.position_id = await stream.tail_id(self.redis)
        self.position = stream.parse_id(self.position_id)
        self._fresh = self.position == (0, 0)
        self._tasks = [asyncio.create_task(self._read_loop(), name="hub-read"),
                       asyncio.create_task(self._heartbeat_loop(), name="hub-heartbeat")]

    async def stop(self) -> None:
        self._stopping = True
        for client in list(self.clients):
            client.fail(ws_frames.RESTART, "server restarting: reconnect and resume")
        self._tasks[1].cancel()  # the heartbeat only sleeps between pings: safe to cancel at once
        await stop_tasks(self._tasks, before=self._reader.aclose(close_connection_pool=True))

    # -- membership ----------------------------------------------------------------------------------------

    def register(self, client: Client) -> None:
        self.clients.add(client)

    def unregister(self, client: Client) -> None:
        self.detach(client)
        self.clients.discard(client)

    def attach_catching_up(self, client: Client) -> None:
        self.catching_up.add(client)

    def attach(self, client: Client) -> None:
        """Index a client by its scope (live delivery)."""
        self.catching_up.discard(client)
        scope = client.scope
        assert scope is not None
        if scope.everything:
            self.everything.add(client)
        if scope.region is not None:
            self.by_region[scope.region].add(client)
        if scope.worker_id is not None:
            self.by_worker[scope.worker_id].add(client)
        if scope.department_code is not None:
            self.by_department[scope.department_code].add(client)
        for incident_id in scope.follows:
            self.by_incident[incident_id].add(client)

        def follow(incident_id: int, on: bool) -> None:
            if on:
                self.by_incident[incident_id].add(client)
            else:
                _discard(self.by_incident, incident_id, client)

        scope.on_follow = follow

    def detach(self, client: Client) -> None:
        self.catching_up.discard(client)
        self.everything.discard(client)
        scope = client.scope
        if scope is None:
            return
        scope.on_follow = None
        if scope.region is not None:
            _discard(self.by_region, scope.region, client)
        if scope.worker_id is not None:
            _discard(self.by_worker, scope.worker_id, client)
        if scope.department_code is not None:
            _discard(self.by_department, scope.department_code, client)
        for incident_id in scope.follows:
            _discard(self.by_incident, incident_id, client)

    # -- fan-out -------------------------------------------------------------------------------------------

    def dispatch(self, entry: StreamEntry) -> None:
        self.position, self.position_id = entry.key, entry.id
        if entry.is_epoch:
            fresh, self._fresh = self._fresh, False
            if not fresh:  # the stream was re-created under us: every client must refetch
                for client in list(self.clients):
                    client.deliver(entry)
            return
        self._fresh = False
        targets = set(self.catching_up)
        targets |= self.everything
        for code in entry.region_path:
            targets |= self.by_region.get(code, set())
        if entry.worker_id is not None:
            targets |= self.by_worker.get(entry.worker_id, set())
        if entry.department_code is not None:
            targets |= self.by_department.get(entry.department_code, set())
        if entry.incident_id is not None:
            targets |= self.by_incident.get(entry.incident_id, set())
        for client in targets:
            client.deliver(entry)

    async def _read_loop(self) -> None:
        while not self._stopping:
            try:
                reply = await self._reader.xread({stream.STREAM: self.position_id}, count=self._count, block=_BLOCK_MS)
            except (RedisError, OSError) as exc:
                if self._stopping:
                    return
                log.warning("hub: reading the event stream failed, retrying: %s", exc)
                await asyncio.sleep(1.0)
                continue
            for _key, items in reply or []:
                for entry_id, fields in items:
                    try:
                        self.dispatch(stream.decode(entry_id, fields))
                    except Exception:  # one bad entry must not stop the feed of every client
                        log.exception("hub: cannot dispatch entry %s", entry_id)
                        self.position, self.position_id = stream.parse_id(entry_id), entry_id

    async def _heartbeat_loop(self) -> None:
        interval = self.settings.ws_ping_interval_s
        while not self._stopping:
            await asyncio.sleep(interval)
            now = time.monotonic()
            for client in list(self.clients):
                if now - client.last_seen > 2 * interval:
                    client.fail(ws_frames.HEARTBEAT, "no pong: connection presumed dead")
                else:
                    client.send(ws_frames.PING)


async def stop_tasks(tasks: list[asyncio.Task], *, before: Awaitable[object] | None = None,
                     grace_s: float = 3.0) -> None:
    """Let loops that watch a stop flag end by themselves, then cancel; never wait forever (shutdown must end)."""
    if before is not None:
        with contextlib.suppress(Exception):
            await before
    pending = [t for t in tasks if not t.done()]
    if pending:
        _, pending = await asyncio.wait(pending, timeout=grace_s)
    for task in pending:
        task.cancel()
    if pending:
        _, stuck = await asyncio.wait(pending, timeout=grace_s)
        for task in stuck:
            log.error("task %s did not stop; leaving it", task.get_name())


def _discard(index: defaultdict, key: object, client: Client) -> None:
    members = index.get(key)
    if members is not None:
        members.discard(client)
        if not members:
            del index[key]


def install(app: FastAPI) -> None:
    """Start the hub and the relay with the app (lifespan hooks); app.state.hub is the hub."""

    async def start(app: FastAPI) -> None:
        settings: Settings = app.state.settings
        app.state.hub = Hub(app.state.redis, settings)
        await app.state.hub.start()
        app.state.relay_stop = asyncio.Event()
        app.state.relay_task = asyncio.create_task(
            run_relay(app.state.sessionmaker, app.state.redis, settings, app.state.relay_stop), name="event-relay")

    async def stop(app: FastAPI) -> None:
        app.state.relay_stop.set()
        await stop_tasks([app.state.relay_task])
        await app.state.hub.stop()

    app.state.startup_hooks.append(start)
    app.state.shutdown_hooks.append(stop)
