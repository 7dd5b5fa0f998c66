"""Redis stopped and started again (empty) under a running server with a wall display connected: alerts are still
acknowledged meanwhile, the socket stays open, and once Redis is back the wall gets a `reset` and every event
once, including those of the outage; the server logs the outage in a few lines, no traceback (docs/faults.md).

Redis is one of the test's own (redis-server on a free port), so stopping it disturbs nothing else."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import text

from command.core.db import make_sessionmaker
from tests.dispatch_fixtures import add_user, at, seed_world
from tests.environment import make_test_settings
from tests.procs import free_port, log_tail, server_env, start_server, stop, wait_ready
from tests.ws_helpers import open_ws, recv, subscribe


class OwnRedis:
    def __init__(self) -> None:
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="gridcmd-redis-")
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", self.dir], stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True,
                             text=True).stdout.strip() != "PONG":
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is needed (scripts/provision.sh installs it)")
    r = OwnRedis()
    r.start()
    yield r
    r.close()


async def test_redis_restarted_under_a_running_server(clean_db, own_redis: OwnRedis) -> None:
    settings = make_test_settings(redis_url=own_redis.url)
    async with make_sessionmaker(clean_db)() as s, s.begin():
        await seed_world(s)
        op = await add_user(s, settings, username="op", role="operator")
    port = free_port()
    proc = start_server(port, server_env(settings, GRIDCMD_REDIS_TIMEOUT_S="1", GRIDCMD_RELAY_INTERVAL_S="0.5",
                                         GRIDCMD_LOG_LEVEL="warning"))
    try:
        wait_ready(port, proc=proc)
        ws = await open_ws(port, op.token)
        await subscribe(ws)
        frames: list[dict] = []
        stop_reading = asyncio.Event()

        async def read() -> None:
            while not stop_reading.is_set():
                try:
                    frames.append(await recv(ws, 0.3))
                except TimeoutError:
                    continue

        reader = asyncio.create_task(read())
        async with httpx.AsyncClient(timeout=20) as http:
            async def post(i: int) -> httpx.Response:
                lon, lat = at(1.0 + i * 0.1, 1.5)
                return await http.post(f"http://127.0.0.1:{port}/api/v1/alerts", headers=op.headers, json={
                    "category": "noise", "description": f"第{i}号", "lon": lon, "lat": lat, "channel": "hotline"})

            before = await post(0)
            await asyncio.sleep(0.5)
            await asyncio.to_thread(own_redis.stop)
            during = [await post(i) for i in (1, 2)]  # stored and acknowledged; dispatch waits for Redis
            ready = await http.get(f"http://127.0.0.1:{port}/readyz")
            await asyncio.sleep(1.5)  # the hub, the relay, the sweeper and the ack timers run into the outage
            await asyncio.to_thread(own_redis.start)  # back, empty (no persistence): like a restart that lost it
            back_at = time.monotonic()
            after = await post(3)
            while time.monotonic() - back_at < 8:  # the relay re-publishes what the wall has not seen
                await asyncio.sleep(0.5)
                if any(f.get("event", {}).get("incident_id") == during[-1].json()["id"] for f in frames):
                    break
            await asyncio.sleep(1.0)  # nothing more (a duplicate) arrives
        stop_reading.set()
        await reader
    finally:
        stop(proc)
    logs = log_tail(proc, 100_000)
    async with clean_db.connect() as conn:
        events = {r[0] for r in await conn.execute(text("SELECT id FROM events"))}
    seen = Counter(f["event"]["pg_id"] for f in frames if f.get("type") == "event")
    print(f"\nRedis down ~2 s: alerts answered {before.status_code}, {[r.status_code for r in during]} (during), "
          f"{after.status_code}; /readyz during {ready.status_code}; wall frames "
          f"{Counter(f['type'] for f in frames)}; {len(events)} events, duplicates "
          f"{sum(c - 1 for c in seen.values())}; {logs.count('unavailable')} outage lines")
    assert before.status_code == 201 and after.status_code == 201
    assert [r.status_code for r in during] == [201, 201] and all(r.json()["status"] == "located" for r in during)
    assert ready.status_code == 503 and ready.json()["redis"]["ok"] is False
    assert any(f.get("type") == "reset" for f in frames)  # the socket stayed open and was told to refetch
    assert set(seen) == events and max(seen.values()) == 1  # every event once, the outage's included
    assert "Traceback" not in logs, logs[-3000:]
    assert logs.count("\n") < 40, logs  # a few lines for the outage, not one per attempt
