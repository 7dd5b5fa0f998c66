"""Rolling restart of two web processes under 20 alerts/s with 50 wall sockets (docs/operations-upgrades.md):
one process is stopped gracefully (SIGTERM), started again and ready, then the other. Meanwhile:

* every alert is acknowledged: a POST that meets a closed listener or a connection closed under it is retried, with
  its Idempotency-Key, on the other process (what a reverse proxy does); PostgreSQL then holds exactly one incident
  per key;
* every socket is closed with 1012 by the process going down, reconnects to the other one and resumes from the
  last event id it saw;
* each socket receives every event committed during the run exactly once, in stream order. The test client does
  NOT deduplicate: the resume protocol promises each stream entry once (docs/realtime.md), and it is checked raw."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from command.core.db import make_sessionmaker
from command.core.settings import Settings
from tests.dispatch_fixtures import Who, add_user, at, seed_world
from tests.procs import kernel_ports, log_tail, server_env, start_server, stop, wait_ready

RATE = 20  # alerts per second over both processes
SOCKETS = 50
CATCH_UP_S = 30.0
CONNECT_ERRORS = (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)


@dataclass
class Wall:
    """One wall display's socket, reconnecting to the other process when its own goes away."""

    n: int
    ports: list[int]
    token: str
    last: str | None = None
    pg_ids: list[int] = field(default_factory=list)
    ids: list[tuple[int, int]] = field(default_factory=list)
    closes: list[int | None] = field(default_factory=list)
    resumes: int = 0
    others: list[dict] = field(default_factory=list)  # reset/error frames: none expected
    subscribed: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self, stop_at: asyncio.Event) -> None:
        port_i = self.n % 2
        while not stop_at.is_set():
            port = self.ports[port_i]
            try:
                async with connect(f"ws://127.0.0.1:{port}/ws", open_timeout=5, close_timeout=1,
                                         max_size=None) as ws:
                    await ws.send(json.dumps({"type": "auth", "token": self.token}))
                    await ws.send(json.dumps({"type": "subscribe", "last_event_id": self.last}))
                    if self.last is not None:
                        self.resumes += 1
                    await self._read(ws, stop_at)
                    if stop_at.is_set():
                        return
            except ConnectionClosed as exc:
                self.closes.append(exc.rcvd.code if exc.rcvd else None)
            except (OSError, InvalidHandshake, TimeoutError):  # closed or closing (restarting): the other process
                pass
            port_i = 1 - port_i
            # As web/static/app/socket.js: a first retry after 0.375-0.625 s, so 25 sockets do not reconnect at once.
            await asyncio.sleep(0.5 * (0.75 + random.random() / 2))

    async def _read(self, ws: ClientConnection, stop_at: asyncio.Event) -> None:
        while not stop_at.is_set():
            try:
                raw = await asyncio.wait_for(ws.recv(), 0.5)
            except TimeoutError:
                continue
            frame = json.loads(raw)
            kind = frame.get("type")
            if kind == "ping":
                await ws.send('{"type":"pong"}')
            elif kind == "event":
                self.last = frame["id"]
                self.ids.append(tuple(map(int, frame["id"].split("-"))))
                if frame["event"].get("pg_id") is not None:
                    self.pg_ids.append(frame["event"]["pg_id"])
            elif kind == "live":
                # The stream position the subscription reached: resume from it even before any event came (as
                # web/static/app/socket.js does), or what is published while reconnecting would be missed.
                self.last = frame["id"]
                self.subscribed.set()
            elif kind not in ("hello", "subscribed"):
                self.others.append(frame)


@dataclass
class Senders:
    acknowledged: dict[str, int] = field(default_factory=dict)
    retried: int = 0
    busy: int = 0
    bad: list[str] = field(default_factory=list)


def body(i: int) -> dict:
    lon, lat = at(1 + (i % 10) * 0.2, 1.5)
    return {"category": "noise", "description": f"滚动重启第{i}号", "lon": lon, "lat": lat, "channel": "sensor"}


async def send_alert(http: httpx.AsyncClient, ports: list[int], op: Who, i: int, out: Senders) -> None:
    key = f"rolling-{i}"
    for attempt in range(40):
        port = ports[(i + attempt) % 2]
        try:
            r = await http.post(f"http://127.0.0.1:{port}/api/v1/alerts", json=body(i),
                                headers={**op.headers, "Idempotency-Key": key})
        except CONNECT_ERRORS:
            out.retried += 1
            await asyncio.sleep(0.05)
            continue
        if r.status_code in (200, 201):
            out.acknowledged[key] = r.json()["id"]
            return
        if r.status_code == 503 and r.headers.get("Retry-After"):  # the one process left is busy: retry later
            out.busy += 1
            await asyncio.sleep(float(r.headers["Retry-After"]))
            continue
        out.bad.append(f"{key}: {r.status_code} {r.text[:200]}")
        return
    out.bad.append(f"{key}: never acknowledged")


@pytest.fixture
async def flushed(settings: Settings) -> AsyncIterator[None]:
    client = Redis.from_url(settings.redis_url)
    await client.flushdb()
    await client.aclose()
    yield


def restart(procs: list, ports: list[int], i: int, env: dict[str, str], drained: list[float]) -> float:
    """What scripts/rolling-restart.sh does for one process: SIGTERM, wait for the exit, start, wait until ready.
    Returns the seconds the process was away."""
    t0 = time.monotonic()
    print(f"restart {i}: SIGTERM at {t0:.1f}")
    # uvicorn ends a graceful shutdown by re-raising the signal it caught: -SIGTERM is a clean exit here.
    assert stop(procs[i], timeout=40) in (0, -15), log_tail(procs[i])
    drained.append(time.monotonic() - t0)
    print(f"restart {i}: exited after {time.monotonic() - t0:.1f} s")
    procs[i] = start_server(ports[i], env)
    wait_ready(ports[i], proc=procs[i], timeout=60)
    print(f"restart {i}: ready after {time.monotonic() - t0:.1f} s")
    return time.monotonic() - t0


async def test_rolling_restart_of_two_processes_loses_nothing(clean_db: AsyncEngine, settings: Settings,
                                                              flushed: None) -> None:
    async with make_sessionmaker(clean_db)() as s, s.begin():
        await seed_world(s)
        op = await add_user(s, settings, username="op", role="operator")  # no region: sees everything
    ports = kernel_ports(2)
    env = server_env(settings, GRIDCMD_LOG_LEVEL="warning", GRIDCMD_RELAY_INTERVAL_S="0.5")
    procs = [start_server(port, env) for port in ports]
    walls = [Wall(n, ports, op.token) for n in range(SOCKETS)]
    stop_walls = asyncio.Event()
    out = Senders()
    away: list[float] = []
    drained: list[float] = []  # SIGTERM → exit
    try:
        for port, proc in zip(ports, procs, strict=True):
            wait_ready(port, proc=proc)
        async with clean_db.connect() as conn:
            before = (await conn.execute(text("SELECT coalesce(max(id), 0) FROM events"))).scalar_one()
        readers = [asyncio.create_task(w.run(stop_walls)) for w in walls]
        await asyncio.wait_for(asyncio.gather(*(w.subscribed.wait() for w in walls)), 20)
        senders: list[asyncio.Task] = []
        async with httpx.AsyncClient(timeout=30) as http:
            started = time.monotonic()
            phases = [started + 2.0, None]  # restart A at 2 s; B 2 s after A is back
            restarter: asyncio.Task | None = None
            i = 0
            while True:
                now = time.monotonic()
                if restarter is None and now >= phases[0]:
                    restarter = asyncio.create_task(asyncio.to_thread(
                        lambda: [away.append(restart(procs, ports, 0, env, drained)), time.sleep(2.0),
                                 away.append(restart(procs, ports, 1, env, drained))]))
                if restarter is not None and restarter.done():
                    restarter.result()
                    if phases[1] is None:
                        phases[1] = now + 2.0
                    if now >= phases[1]:
                        break
                senders.append(asyncio.create_task(send_alert(http, ports, op, i, out)))
                i += 1
                await asyncio.sleep(max(0.0, started + i / RATE - time.monotonic()))
            await asyncio.wait_for(asyncio.gather(*senders), 60)
        # Every socket catches up with every event committed during the run (or the deadline says it did not).
        async with clean_db.connect() as conn:
            committed = set((await conn.execute(text("SELECT id FROM events WHERE id > :b"),
                                                {"b": before})).scalars())
        t0 = time.monotonic()
        for _ in range(int(CATCH_UP_S / 0.2)):
            if not any(committed - set(w.pg_ids) for w in walls):
                break
            await asyncio.sleep(0.2)
        caught_up_s = time.monotonic() - t0
        await asyncio.sleep(1.0)  # anything still coming would be a duplicate
        stop_walls.set()
        await asyncio.wait_for(asyncio.gather(*readers), 10)
    finally:
        stop_walls.set()
        for proc in procs:
            stop(proc)
    logs = "".join(log_tail(p, 100_000) for p in procs)
    async with clean_db.connect() as conn:
        stored = dict((await conn.execute(text(
            "SELECT idempotency_key, id FROM incidents WHERE idempotency_key LIKE :k"),
            {"k": f"u{op.principal.user_id}:rolling-%"})).all())
        final = set((await conn.execute(text("SELECT id FROM events WHERE id > :b"), {"b": before})).scalars())
    duplicates = sum(len(w.pg_ids) - len(set(w.pg_ids)) for w in walls)
    missing = [len(committed - set(w.pg_ids)) for w in walls]
    late = len(final - committed)  # appended after the load (e.g. the ack timers): not required, counted
    closes = [c for w in walls for c in w.closes]
    print(f"\nrolling restart: {i} alerts at {RATE}/s, processes away {[f'{a:.1f} s' for a in away]} "
          f"(SIGTERM to exit {[f'{d:.1f} s' for d in drained]}); "
          f"{len(out.acknowledged)} acknowledged, {out.retried} POSTs retried on the other process, {out.busy} 503s "
          f"retried; {late} events after the load; every socket caught up {caught_up_s:.1f} s after the load; "
          f"{len(committed)} events; {SOCKETS} sockets: closes {dict((c, closes.count(c)) for c in set(closes))}, "
          f"resumes {sum(w.resumes for w in walls)}, duplicates {duplicates}, missing {sum(missing)}")
    assert not out.bad, out.bad[:5]
    assert len(out.acknowledged) == i  # 0 alerts lost
    assert stored == {f"u{op.principal.user_id}:{k}": v for k, v in out.acknowledged.items()}  # and none twice
    assert len(away) == 2
    for w in walls:
        # Told to go elsewhere (1012); on this shared 2-core machine a process taking 25 reconnects at once may also
        # answer 1013 (its PostgreSQL pool busy: retry and resume). Never a code that loses the subscription.
        assert 1012 in w.closes and set(w.closes) <= {1012, 1013, None}, (w.n, w.closes)
        assert w.resumes >= 1, w.n
        assert not w.others, (w.n, w.others[:3])  # no reset, no error
        assert len(w.pg_ids) == len(set(w.pg_ids)), w.n  # each event once, without client-side dedupe
        assert w.ids == sorted(w.ids), w.n  # in stream order across the reconnects
    assert sum(missing) == 0, missing
    assert "Traceback" not in logs, logs[-3000:]
