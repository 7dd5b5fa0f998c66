"""Two real web processes on one Redis and one PostgreSQL: cross-process push, resume with last_event_id,
a slow client, and the relay (nothing lost)."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import time
from collections.abc import Iterator

import httpx
import pytest
from redis.asyncio import Redis

from tests.procs import kernel_ports, server_env, start_server, stop, wait_ready
from tests.ws_fixtures import CENTRES, City, emit, emit_many, new_incident
from tests.ws_helpers import closed_with, events, open_ws, recv, silent, subscribe

A, B = kernel_ports(2)
QUEUE = 64


@pytest.fixture(scope="module")
def servers(city: City) -> Iterator[tuple[int, int]]:
    # No sweeper/ack timers: their events about the alert of the first test would mix with the others'.
    # A long close timeout: the stalled client of the slow-client test starts reading only after the burst, and
    # must then still find its 4000 (a client stalled for longer is aborted: tests/web/ws/test_ws_stalled.py).
    env = server_env(city.settings, GRIDCMD_WS_QUEUE_SIZE=str(QUEUE), GRIDCMD_RELAY_INTERVAL_S="0.3",
                     GRIDCMD_DISPATCH_BACKGROUND="false", GRIDCMD_WS_CLOSE_TIMEOUT_S="30")
    procs = [start_server(port, env) for port in (A, B)]
    try:
        for port, proc in zip((A, B), procs, strict=True):
            wait_ready(port, proc=proc)
        yield A, B
    finally:
        for proc in procs:
            stop(proc)


def pg_ids(frames: list[dict]) -> list[int]:
    assert all(f["type"] == "event" for f in frames), [f for f in frames if f["type"] != "event"]
    return [f["event"]["pg_id"] for f in frames]


async def test_alert_posted_to_b_reaches_wall_display_on_a_within_1s(servers, city: City) -> None:
    wall = await open_ws(A, city.tokens["op_x"])
    await subscribe(wall, "SX")
    lon, lat = CENTRES["CX1"]
    body = {"category": "fire", "description": "配电箱冒烟", "lon": lon, "lat": lat, "channel": "hotline"}
    async with httpx.AsyncClient() as http:
        t0 = time.perf_counter()
        r = await http.post(f"http://127.0.0.1:{B}/api/v1/alerts", json=body,
                            headers={"Authorization": f"Bearer {city.tokens['op_x']}"})
        assert r.status_code == 201, r.text
        incident_id = r.json()["id"]
        while True:
            frame = await recv(wall, 1.0)
            if frame["type"] == "event" and frame["event"]["incident_id"] == incident_id:
                break
        latency = time.perf_counter() - t0
    print(f"\nalert POSTed to B -> first event on A: {latency * 1000:.1f} ms ({frame['event']['kind']})")
    assert latency < 1.0


async def test_resume_after_5s_gets_every_missed_event_once_in_order_then_live(servers, city: City, rds: Redis) -> None:
    sx, sy = await new_incident(city, rds, "SX"), await new_incident(city, rds, "SY")
    ws = await open_ws(A, city.tokens["op_x"])
    await subscribe(ws, "SX")
    first = await emit(city, rds, sx)
    [seen] = await events(ws, 1)
    assert seen["event"]["pg_id"] == first.id
    await ws.close()

    emitted: list[int] = []  # SX events, in publish order
    stop_at = time.monotonic() + 5.0

    async def keep_emitting(until: float, gap: float) -> None:
        n = 0
        while time.monotonic() < until:
            event = await emit(city, rds, sx if n % 3 else sy, payload={"n": n})
            if n % 3:
                emitted.append(event.id)
            n += 1
            await asyncio.sleep(gap)

    await keep_emitting(stop_at, 0.1)  # disconnected for 5 s while events keep coming
    missed = len(emitted)
    # Reconnect to the other process while events are still being published fast (the seam is raced).
    producer = asyncio.create_task(keep_emitting(time.monotonic() + 1.5, 0.005))
    ws = await open_ws(B, city.tokens["op_x"])
    _, caught_up, live = await subscribe(ws, "SX", last_event_id=seen["id"])
    await producer
    frames = caught_up + await events(ws, len(emitted) - len(caught_up), 10.0)
    frames += await silent(ws, 0.5)
    # Other SX events may come from the dispatch background (the alert of the test above): only ours count.
    received = [f for f in frames if f["type"] != "event" or f["event"]["incident_id"] == sx.id]
    assert pg_ids(received) == emitted  # every missed event once, in order, then the live ones: no gap, no dup
    ids = [tuple(map(int, f["id"].split("-"))) for f in frames]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    caught_up = [f for f in caught_up if f["event"]["incident_id"] == sx.id]
    print(f"\nresume: {missed} missed during 5 s, {len(caught_up)} from history, "
          f"{len(received) - len(caught_up)} live after {live['id']}")


async def test_a_slow_client_does_not_delay_the_others(servers, city: City, rds: Redis) -> None:
    incident = await new_incident(city, rds, "SY")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", A))
    slow = await open_ws(A, city.tokens["op_y"], sock=sock, max_queue=1)  # then never reads
    await subscribe(slow, "SY")
    fast = await open_ws(A, city.tokens["op_y"])
    await subscribe(fast, "SY")
    received: dict[int, float] = {}
    # Incompressible payloads: permessage-deflate would shrink repeated text to nothing and nothing would stall.
    burst, batch = QUEUE * 5, QUEUE

    async def read_fast() -> None:
        while len(received) < burst:
            frame = await recv(fast, 5.0)
            received[frame["event"]["pg_id"]] = time.perf_counter()

    reader = asyncio.create_task(read_fast())
    sent: dict[int, float] = {}
    for start in range(0, burst, batch):
        pads = [base64.b64encode(os.urandom(24_000)).decode() for _ in range(batch)]
        published = await emit_many(city, rds, incident, [{"i": start + i, "pad": p} for i, p in enumerate(pads)])
        now = time.perf_counter()
        sent.update((e.id, now) for e in published)
        await asyncio.sleep(0.05)
    await reader
    delays = [received[pg_id] - sent[pg_id] for pg_id in sent]
    print(f"\nfast client beside a stalled one: {burst} events of 32 KB, max delay {max(delays) * 1000:.0f} ms")
    # Had the stalled socket held up the fan-out, the fast one would wait until it is dropped (seconds) or
    # forever (the stalled one reads only below); 2 s leaves room for a loaded 2-core machine (~0.1 s idle).
    assert max(delays) < 2.0
    code, frames = await closed_with(slow, within=10.0)  # now it reads: what was buffered, then the close
    assert code == 4000
    assert 0 < len([f for f in frames if f["type"] == "event"]) < burst


async def test_committed_but_never_published_event_reaches_subscribers(servers, city: City, rds: Redis) -> None:
    incident = await new_incident(city, rds, "SX")
    ws = await open_ws(A, city.tokens["op_x"])
    await subscribe(ws, "SX")
    t0 = time.perf_counter()
    lost = await emit(city, rds, incident, publish=False)  # its publisher "died" right after the commit
    [frame] = await events(ws, 1, 3.0)
    print(f"\nrelay delivered an unpublished event after {(time.perf_counter() - t0) * 1000:.0f} ms")
    assert frame["event"]["pg_id"] == lost.id
    assert await silent(ws, 1.0) == []  # once


async def test_after_redis_is_flushed_clients_reset_and_lost_events_still_arrive(servers, city: City,
                                                                                  rds: Redis) -> None:
    incident = await new_incident(city, rds, "SX")
    ws = await open_ws(A, city.tokens["op_x"])
    await subscribe(ws, "SX")
    await asyncio.sleep(0.7)  # a relay pass has moved the watermark past everything above
    await rds.flushdb()
    lost = await emit(city, rds, incident, publish=False)
    frames = []
    while not any(f.get("event", {}).get("pg_id") == lost.id for f in frames):
        frames.append(await recv(ws, 3.0))
    assert frames[0]["type"] == "reset"
    assert [f["event"]["pg_id"] for f in frames if f["type"] == "event"].count(lost.id) == 1
    late = await open_ws(B, city.tokens["op_x"])  # a client resuming from before the flush is told to reset
    await late.send(json.dumps({"type": "subscribe", "region": "SX", "last_event_id": "1-0"}))
    assert (await recv(late))["type"] == "subscribed"
    assert (await recv(late))["type"] == "reset"
