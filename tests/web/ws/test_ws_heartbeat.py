"""The hub's pings are spread over the interval: each socket is pinged once per `ws_ping_interval_s`, at its own
phase, never all sockets at once (a process with thousands of sockets otherwise sends thousands of pings and reads
as many pongs in one burst, and alerts wait behind them: web/hub.py `register`). A socket silent for twice the
interval is still closed."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter

from command.core.security import Principal
from tests.environment import make_test_settings
from web import ws_frames
from web.hub import Hub
from web.ws_client import Client

INTERVAL = 2.0
SOCKETS = 400


async def test_pings_are_spread_over_the_interval_and_each_socket_gets_one_per_interval() -> None:
    hub = Hub(redis=None, settings=make_test_settings(ws_ping_interval_s=INTERVAL))  # type: ignore[arg-type]
    clients = [Client(None, Principal(user_id=i, username=f"u{i}", role="worker"), queue_size=16)  # type: ignore[arg-type]
               for i in range(SOCKETS)]
    for c in clients:
        hub.register(c)
    pinged_at: dict[int, list[float]] = {i: [] for i in range(SOCKETS)}
    started = time.monotonic()

    async def keep_alive_and_watch() -> None:  # every socket answers (last_seen) and we note when pings arrive
        while True:
            now = time.monotonic()
            for i, c in enumerate(clients):
                c.last_seen = now
                while not c.queue.empty():
                    assert c.queue.get_nowait() == ws_frames.PING
                    pinged_at[i].append(now - started)
            await asyncio.sleep(0.05)

    watcher = asyncio.create_task(keep_alive_and_watch())
    loop = asyncio.create_task(hub._heartbeat_loop())
    await asyncio.sleep(2 * INTERVAL + 0.3)
    loop.cancel()
    watcher.cancel()
    await asyncio.gather(loop, watcher, return_exceptions=True)

    firsts = [times[0] for times in pinged_at.values() if times]
    assert len(firsts) == SOCKETS  # everyone within the first interval (and a tick)
    assert max(firsts) <= INTERVAL + 0.6
    per_tick = Counter(round(t / 0.5) for t in firsts)
    assert max(per_tick.values()) < SOCKETS / 2, per_tick  # not everyone at once: spread over the ticks
    for times in pinged_at.values():  # one ping per interval, not more
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert all(gap >= INTERVAL - 0.6 for gap in gaps), times
    assert all(c.close_code is None for c in clients)


async def test_a_silent_socket_is_still_closed_after_twice_the_interval() -> None:
    hub = Hub(redis=None, settings=make_test_settings(ws_ping_interval_s=0.4))  # type: ignore[arg-type]
    quiet = Client(None, Principal(user_id=1, username="u1", role="worker"), queue_size=16)  # type: ignore[arg-type]
    hub.register(quiet)
    loop = asyncio.create_task(hub._heartbeat_loop())
    await asyncio.sleep(1.2)
    loop.cancel()
    await asyncio.gather(loop, return_exceptions=True)
    assert quiet.close_code == ws_frames.HEARTBEAT
