"""The Redis failover drill, shared by tests/ops/test_fault_sentinel.py and test_fault_cluster.py (small) and
bench/failover.py (200 alerts/s): a local Sentinel set (scripts/redis-sentinel.sh) or Redis Cluster
(scripts/redis-cluster.sh, tests/redis_cluster.ClusterSet), the real app on it, alerts posted at a steady rate
while the master holding the dispatch state is SIGKILLed, then the figures: acknowledged alerts lost, double
bookings, failover time, time until dispatch resumed (docs/failover.md)."""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import signal
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

import httpx
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from websockets.exceptions import ConnectionClosed

from command.core.db import make_sessionmaker
from command.core.redis_client import redis_from_url
from command.core.settings import Settings
from dispatch import presence
from tests.dispatch_fixtures import add_user, add_workers, at, seed_world
from tests.procs import ROOT, log_tail, server_env, start_server, stop, wait_ready
from tests.ws_helpers import open_ws, recv, subscribe

SCRIPT = ROOT / "scripts" / "redis-sentinel.sh"
SERVICE = "gridcmd"
HOLDING = "('sent','delivered','read','accepted','signed_for','extended')"


class SentinelSet:
    """scripts/redis-sentinel.sh's master (base), replica (base+1) and Sentinels (base+2..4)."""

    def __init__(self, base: int, workdir: Path) -> None:
        self.base, self.dir = base, workdir
        self.url = ""

    def start(self) -> str:
        out = subprocess.run([str(SCRIPT), "start", str(self.base), str(self.dir)], capture_output=True,
                             text=True, timeout=60)
        if out.returncode != 0:
            raise RuntimeError(f"redis-sentinel.sh start failed: {out.stderr}")
        # The set is this drill's own; database 3 all the same (0 is the shared instance's default elsewhere).
        self.url = out.stdout.strip().splitlines()[-1].rsplit("/", 1)[0] + "/3"
        return self.url

    def stop(self) -> None:
        subprocess.run([str(SCRIPT), "stop", str(self.base), str(self.dir)], capture_output=True, timeout=60)

    def master_port(self) -> int:
        out = subprocess.run(["redis-cli", "-p", str(self.base + 2), "sentinel", "get-master-addr-by-name",
                              SERVICE], capture_output=True, text=True, timeout=5).stdout.split()
        return int(out[-1])

    def kill(self, port: int) -> None:
        """SIGKILL the server on `port` (no save, no goodbye)."""
        pidfile = self.dir / f"{port}.pid"
        os.kill(int(pidfile.read_text().strip()), signal.SIGKILL)
        pidfile.unlink()
        return port


class Failover(Protocol):
    """What the drill needs of a Redis set: its master's port now (0 while none serves) and a SIGKILL for a server."""

    def master_port(self) -> int: ...

    def kill(self, port: int) -> None: ...


@dataclass
class Figures:
    rate_per_s: float
    posted: int = 0
    acknowledged: int = 0
    refused_503: int = 0
    other_status: dict[int, int] = field(default_factory=dict)
    no_answer: dict[str, int] = field(default_factory=dict)  # status 0: the client's error, by kind
    failover_s: float = 0.0  # SIGKILL -> the Sentinels (or the cluster) name the replica as master
    resumed_s: float = 0.0  # SIGKILL -> the first answer that dispatched an alert posted after the kill
    resumed_db_s: float = 0.0  # SIGKILL -> first worker order (PostgreSQL's clock) of an incident created after it
    lost: int = 0  # acknowledged (201) without its incident in PostgreSQL
    wall_missed: int = 0  # acknowledged, but its incident.created never reached the wall's socket
    wall_reconnects: int = 0  # the wall's socket closed by the server and resumed from its last event id
    unsettled: int = 0  # acknowledged, still neither dispatched nor needs_attention at the end
    double_bookings: int = 0  # workers holding more open orders than their max load
    max_load_seen: int = 0
    status_counts: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


async def prepare(engine: AsyncEngine, settings: Settings, *, workers: int, max_load: int) -> str:
    """Seed the world and `workers` workers spread over the district; returns an operator's token header value."""
    async with make_sessionmaker(engine)() as s, s.begin():
        await seed_world(s, ack_timeout_s=3600)  # nobody acknowledges in the drill: offers must not expire in it
        op = await add_user(s, settings, username="op", role="operator")
        side = max(2, math.ceil(math.sqrt(workers)))  # a square lattice over the district: every alert has some near
        step = 3.6 / (side - 1)
        homes = [at(0.2 + (i % side) * step, 0.2 + (i // side % side) * step) for i in range(workers)]
        await add_workers(s, settings, homes, max_load=max_load)
    return op.headers["Authorization"]


async def place_all(redis: Redis, engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        rows = list(await conn.execute(text("SELECT id, ST_X(home), ST_Y(home) FROM workers")))
    now = time.time()
    await presence.report_many(redis, [(int(w), float(x), float(y), now) for w, x, y in rows])


class WallWatch:
    """An operator's wall socket kept open through the drill: the incidents whose `incident.created` it heard. A socket
    the server closes is reopened and resumed from its last event id, as the pages do."""

    def __init__(self, port: int, token: str) -> None:
        self.port, self.token = port, token
        self.heard: set[int] = set()
        self.reconnects = -1  # the first connect is not one
        self._last: str | None = None
        self._stop = asyncio.Event()
        self.live = asyncio.Event()  # subscribed: the alerts may start

    def _note(self, frame: dict) -> None:
        if frame.get("type") == "event":
            self._last = frame["id"]
            if frame["event"].get("kind") == "incident.created":
                self.heard.add(int(frame["event"]["incident_id"]))

    async def run(self) -> None:
        while not self._stop.is_set():
            self.reconnects += 1
            try:
                ws = await open_ws(self.port, self.token)
                try:
                    _, caught_up, _ = await subscribe(ws, last_event_id=self._last, within=10)
                    for frame in caught_up:
                        self._note(frame)
                    self.live.set()
                    while not self._stop.is_set():
                        with contextlib.suppress(TimeoutError):
                            self._note(await recv(ws, 0.5))
                finally:
                    await ws.close()
            except (ConnectionClosed, OSError, TimeoutError, AssertionError):
                await asyncio.sleep(0.2)

    def stop(self) -> None:
        self._stop.set()


async def drill(engine: AsyncEngine, settings: Settings, redis_set: Failover, port: int, *, rate: float,
                seconds: float, kill_at_s: float, workers: int, max_load: int = 2, settle_s: float = 20.0,
                server_workers: int = 1) -> Figures:
    auth = await prepare(engine, settings, workers=workers, max_load=max_load)
    env = server_env(settings, GRIDCMD_REDIS_TIMEOUT_S="1", GRIDCMD_SWEEPER_INTERVAL_S="0.5",
                     GRIDCMD_SWEEPER_GRACE_S="1", GRIDCMD_RELAY_INTERVAL_S="0.5", GRIDCMD_LOG_LEVEL="warning",
                     GRIDCMD_PRESENCE_WARMUP_QUORUM="0", GRIDCMD_PRESENCE_TTL_S="3600",
                     WEB_CONCURRENCY=str(server_workers))
    figures = Figures(rate_per_s=rate)
    client = redis_from_url(settings.redis_url, decode_responses=True, socket_timeout=1, socket_connect_timeout=1)
    await client.flushdb()  # the set's own database: the server rebuilds the live state from this seed at start
    proc = start_server(port, env)
    wall = WallWatch(port, auth.removeprefix("Bearer "))
    watching: asyncio.Task | None = None
    try:
        wait_ready(port, proc=proc, timeout=90)
        await place_all(client, engine)
        watching = asyncio.create_task(wall.run())
        await asyncio.wait_for(wall.live.wait(), 30)
        results: list[tuple[float, float, int, dict]] = []
        async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=400)) as http:
            async def post(i: int) -> None:
                lon, lat = at(0.2 + (i * 7 % 37) * 0.1, 0.2 + (i * 11 % 37) * 0.1)
                sent = time.monotonic()
                try:
                    r = await http.post(f"http://127.0.0.1:{port}/api/v1/alerts", headers={"Authorization": auth},
                                        json={"category": "noise", "description": f"第{i}号", "lon": lon,
                                              "lat": lat, "channel": "hotline"})
                except httpx.TransportError as exc:  # no answer: not acknowledged (counted as status 0)
                    results.append((sent, time.monotonic(), 0, {"no_answer": type(exc).__name__}))
                    return
                body = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
                if r.status_code == 503:
                    assert r.headers.get("Retry-After"), "a 503 says when to retry"
                results.append((sent, time.monotonic(), r.status_code, body))

            async def killer() -> float:
                await asyncio.sleep(kill_at_s)
                old = await asyncio.to_thread(redis_set.master_port)  # asked before the clock starts (redis-cli)
                killed = time.monotonic()
                nonlocal killed_wall
                killed_wall = time.time()
                await asyncio.to_thread(redis_set.kill, old)
                while True:  # poll the Sentinels (the cluster's nodes) until they name another master
                    if await asyncio.to_thread(redis_set.master_port) not in (old, 0):
                        break
                    await asyncio.sleep(0.05)
                figures.failover_s = time.monotonic() - killed
                return killed

            killed_wall = 0.0
            start = time.monotonic()
            kill_task = asyncio.create_task(killer())
            tasks = []
            for i in range(int(rate * seconds)):
                await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
                tasks.append(asyncio.create_task(post(i)))
            await asyncio.gather(*tasks)
            killed = await kill_task
        figures.posted = len(results)
        acked = [body["id"] for _, _, status, body in results if status == 201]
        figures.acknowledged = len(acked)
        figures.refused_503 = sum(1 for _, _, status, _ in results if status == 503)
        for _, _, status, _ in results:
            if status not in (201, 503):
                figures.other_status[status] = figures.other_status.get(status, 0) + 1
        for _, _, _, body in results:
            if "no_answer" in body:
                figures.no_answer[body["no_answer"]] = figures.no_answer.get(body["no_answer"], 0) + 1
        resumed = [done for sent, done, status, body in results
                   if sent > killed and status == 201 and body.get("status") == "dispatched"]
        figures.resumed_s = (min(resumed) - killed) if resumed else float("inf")
        # The sweeper re-drives what waited (and rebuilds the live state first): wait until everything settled.
        deadline = time.monotonic() + settle_s
        while True:
            async with engine.connect() as conn:
                states = dict((int(i), str(s)) for i, s in await conn.execute(
                    text("SELECT id, status FROM incidents WHERE id = ANY(:ids)"), {"ids": acked}))
            unsettled = [i for i in acked if states.get(i) not in ("dispatched", "needs_attention")]
            if (not unsettled and wall.heard.issuperset(acked)) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        wall.stop()
        await watching
        figures.wall_missed = len(set(acked) - wall.heard)
        figures.wall_reconnects = wall.reconnects
        figures.lost = sum(1 for i in acked if i not in states)
        figures.unsettled = len(unsettled)
        for s in states.values():
            figures.status_counts[s] = figures.status_counts.get(s, 0) + 1
        async with engine.connect() as conn:
            rows = list(await conn.execute(text(
                f"SELECT o.worker_id, count(*), w.max_load FROM orders o JOIN workers w ON w.id = o.worker_id "
                f"WHERE o.assignee_kind = 'worker' AND o.status IN {HOLDING} GROUP BY o.worker_id, w.max_load")))
            first = await conn.scalar(text(
                "SELECT extract(epoch FROM min(o.created_at)) FROM orders o JOIN incidents i ON i.id = o.incident_id "
                "WHERE o.assignee_kind = 'worker' AND i.created_at > to_timestamp(:t)"), {"t": killed_wall})
        figures.resumed_db_s = float(first) - killed_wall if first is not None else float("inf")
        figures.double_bookings = sum(1 for _, n, cap in rows if n > cap)
        figures.max_load_seen = max((int(n) for _, n, _ in rows), default=0)
    finally:
        if watching is not None:
            wall.stop()
            await watching
        await client.aclose()
        stop(proc)
    logs = log_tail(proc, 200_000)
    if figures.other_status:
        print(logs[-4000:])
    return figures


def check(f: Figures, what: str) -> None:
    """Print the drill's figures and assert what every drill must show (tests/ops/test_fault_*.py)."""
    print(f"\n{what} failover at {f.rate_per_s:.0f} alerts/s: {f.posted} posted, {f.acknowledged} acknowledged "
          f"(201), {f.refused_503} answered 503; failover {f.failover_s:.2f} s, dispatch resumed "
          f"{f.resumed_s:.2f} s after the kill (first order in PostgreSQL {f.resumed_db_s:.2f} s); "
          f"lost {f.lost}, unsettled {f.unsettled}, missed by the wall {f.wall_missed} "
          f"(its socket resumed {f.wall_reconnects} times), double bookings "
          f"{f.double_bookings} (max load held {f.max_load_seen}); incidents {f.status_counts}")
    assert f.other_status == {}, f.other_status  # 201 or 503, never a 500
    assert f.acknowledged > 0.5 * f.posted
    assert f.lost == 0 and f.unsettled == 0
    assert f.wall_missed == 0  # the hub kept reading the event stream through the switch
    assert f.double_bookings == 0
    assert f.resumed_s <= f.failover_s + 2.0
