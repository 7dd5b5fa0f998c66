"""The WebSocket hub, one per web process: ONE blocking XREAD loop on the event stream, fanned out in-process.

Entries reach the clients whose scope they match through indexes (region code, worker id, department code,
followed incident), so an entry costs what its audience costs, not one check per socket. Fan-out only enqueues
(Client.deliver); heartbeats ping every ws_ping_interval_s and close sockets silent for two intervals.

Each PostgreSQL event reaches this process's live sockets once. Within one stream stream_publish.lua guarantees
it; after a Redis flush the relay re-publishes the recent events into the new stream (it cannot know which ones
the old stream had), and the hub, which remembers the PostgreSQL ids it fanned out (as many as a rebuild
re-publishes at most), drops those it already delivered: live walls get what the flush lost, and nothing twice.
`install(app)` registers the hub and the relay (command/realtime/relay.py) with the app's lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import defaultdict, deque
from collections.abc import Awaitable
from datetime import UTC, datetime

from fastapi import FastAPI
from redis.asyncio import Redis
from redis.exceptions import RedisClusterException, RedisError

from command.core import redis_client
from command.core.outage import OUTAGES, REDIS
from command.core.settings import Settings
from command.core.telemetry import ALERT_TO_SOCKET
from command.realtime import stream
from command.realtime.relay import REBUILD_MAX_EVENTS, run_relay
from command.realtime.stream import StreamEntry
from command.realtime.stream_scope import Scope
from web import ws_frames
from web.ws_client import Client, reset_frame

log = logging.getLogger(__name__)

_BLOCK_MS = 2000  # below the reader's socket timeout (at least 3 s), which would cut a longer block
_PAGE = 500  # history read per round trip while a client catches up
_COUNT = 500  # at most; also at most half a socket's queue, so one read can never overflow a client that keeps up


class RecentIds:
    """The last `size` ids added, in order: `add` is False for an id already among them."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._ids: dict[int, None] = {}

    def add(self, value: int) -> bool:
        if value in self._ids:
            return False
        self._ids[value] = None
        if len(self._ids) > self.size:
            del self._ids[next(iter(self._ids))]
        return True

    def __len__(self) -> int:
        return len(self._ids)


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
        self.delivered = RecentIds(REBUILD_MAX_EVENTS)  # PostgreSQL ids of the entries fanned out
        self.duplicates = 0  # re-published entries dropped (after a flush)

    async def start(self) -> None:
        # The blocking XREAD gets a connection of its own: stop() closes it to end a read at once, because
        # cancelling redis-py in the middle of a blocking read can leave the task hanging in "cancelling".
        self._reader = redis_client.redis_from_url(
            self.settings.redis_url, decode_responses=True, socket_connect_timeout=self.settings.redis_timeout_s,
            socket_timeout=max(self.settings.redis_timeout_s, _BLOCK_MS / 1000 + 1))
        try:
            self.position_id = await stream.tail_id(self.redis)
        except RedisError as exc:  # Redis down at startup: serve anyway; the read loop finds the tail when it is back
            OUTAGES.note(exc, where="hub start")
            self.position_id = ""
        else:
            self.position = stream.parse_id(self.position_id)
            self._fresh = self.position == (0, 0)
        self._tasks = [asyncio.create_task(self._read_loop(), name="hub-read"),
                       asyncio.create_task(self._heartbeat_loop(), name="hub-heartbeat")]

    async def stop(self) -> None:
        self._stopping = True
        for client in list(self.clients):
            client.fail(ws_frames.RESTART, "server restarting: reconnect and resume")
        self._tasks[1].cancel()  # the heartbeat only sleeps between pings: safe to cancel at once
        await stop_tasks(self._tasks, before=redis_client.close(self._reader))

    # -- membership ----------------------------------------------------------------------------------------

    def register(self, client: Client) -> None:
        # Each socket is pinged at its own phase of the interval: pinging every socket at once made every web
        # process send thousands of pings and read as many pongs in the same few hundred milliseconds, and an
        # alert arriving then waited behind them (the province bench at 100 alerts/s: 280-570 ms every 20 s).
        client.next_ping = time.monotonic() + random.uniform(0, self.settings.ws_ping_interval_s)
        self.clients.add(client)

    def unregister(self, client: Client) -> None:
        self.detach(client)
        self.clients.discard(client)

    async def subscribe(self, client: Client, scope: Scope, last_event_id: str | None) -> None:
        """Switch `client` to `scope`. With last_event_id: every entry after it in scope, once each, in order, then
        live.

        Live entries that arrive while the history is read are kept in the client's `backlog` (the hub hands the
        client every entry meanwhile) and its `cursor` drops whatever the history already covered; the switch to
        live happens when the backlog is empty, without awaiting, so no entry falls in between."""
        self.detach(client)
        client.scope = scope
        if last_event_id is None:
            if client.cursor == (0, 0):  # first subscription: live from what this process has read
                client.cursor, client.cursor_id = self.position, self.position_id
            else:  # a new scope on the same socket: continue from where it was
                last_event_id = client.cursor_id
        if last_event_id is None:
            self.attach(client)
            return
        client.backlog = deque()
        self.catching_up.add(client)
        after = last_event_id
        while True:
            page = await stream.read_after(self.redis, after, count=_PAGE)
            if page.reset:
                await client.queue.put(reset_frame(page.tail, "events after last_event_id are gone: refetch state"))
                after = page.tail
                break
            for entry in page.entries:
                after = entry.id
                if entry.is_epoch:
                    await client.queue.put(reset_frame(entry.id, "the event stream was re-created (Redis flushed)"))
                elif scope.observe(entry):
                    await client.queue.put(entry.frame_text())  # history goes at the client's pace
            if len(page.entries) < _PAGE:
                break
        client.cursor, client.cursor_id = stream.parse_id(after), after
        # What arrived meanwhile, at the client's pace too; new arrivals keep joining the backlog until it is
        # empty, and the switch to live happens right then, with no await in between.
        while client.backlog:
            entry = client.backlog.popleft()
            if entry.key > client.cursor and (text := client.take(entry)) is not None:
                await client.queue.put(text)
        client.backlog = None
        self.attach(client)

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
        if entry.pg_id is not None and not self.delivered.add(entry.pg_id):
            self.duplicates += 1  # the relay re-published it after a flush: these sockets had it
            return
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
        if targets:
            _note_fan_out(entry, len(targets))

    async def _read_loop(self) -> None:
        while not self._stopping:
            try:
                if not self.position_id:  # not known yet (Redis was down at startup)
                    self.position_id = await stream.tail_id(self._reader)
                    self.position = stream.parse_id(self.position_id)
                    self._fresh = self.position == (0, 0)
                reply = await stream.read_new(self._reader, self.position_id, count=self._count, block_ms=_BLOCK_MS)
            except (RedisError, RedisClusterException, OSError) as exc:
                if self._stopping:
                    return
                # Redis down or restarting: one line per outage; the sockets stay open and resume from the
                # position when it is back (a flushed stream starts with an epoch entry: clients get `reset`).
                if not OUTAGES.note(exc, where="hub read loop"):
                    log.warning("hub: reading the event stream failed, retrying: %s", exc)
                await asyncio.sleep(1.0)
                continue
            OUTAGES.recovered(REDIS)
            for _key, items in reply or []:
                for entry_id, fields in items:
                    try:
                        self.dispatch(stream.decode(entry_id, fields))
                    except Exception:  # one bad entry must not stop the feed of every client
                        log.exception("hub: cannot dispatch entry %s", entry_id)
                        self.position, self.position_id = stream.parse_id(entry_id), entry_id

    async def _heartbeat_loop(self) -> None:
        """Every socket gets a ping every `ws_ping_interval_s`, at its own phase (register); one that sent nothing
        for twice the interval is closed. The loop ticks a few times per interval to keep the phases."""
        interval = self.settings.ws_ping_interval_s
        tick = min(1.0, interval / 4)
        while not self._stopping:
            await asyncio.sleep(tick)
            now = time.monotonic()
            for client in list(self.clients):
                if now - client.last_seen > 2 * interval:
                    client.fail(ws_frames.HEARTBEAT, "no pong: connection presumed dead")
                elif now >= client.next_ping:
                    client.next_ping = now + interval
                    client.send(ws_frames.PING)


def _note_fan_out(entry: StreamEntry, sockets: int) -> None:
    """The socket side of an event: its log line (with the id of the request that made it) and, for a new
    alert, how long it took from arrival to the sockets' queues."""
    log.info("event to sockets", extra={"request_id": entry.request_id, "incident_id": entry.incident_id,
                                        "kind": entry.kind, "event_id": entry.id, "sockets": sockets})
    if entry.kind == "incident.created" and entry.event.get("created_at"):
        with contextlib.suppress(ValueError, TypeError):
            arrived = datetime.fromisoformat(entry.event["created_at"])
            ALERT_TO_SOCKET.observe(max(0.0, (datetime.now(UTC) - arrived).total_seconds()))


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
