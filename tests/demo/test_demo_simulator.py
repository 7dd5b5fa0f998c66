"""The simulator against a real server process that is not there yet, comes up, goes away and comes back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from command.demo.sim_client import Api, Login
from command.demo.simulator import Simulator
from tests.procs import free_port, server_env, start_server, stop, wait_ready

PORT = free_port()  # chosen by the kernel: two suites can run on one machine
BASE = f"http://127.0.0.1:{PORT}"


async def _until(check: Callable[[], bool], within_s: float, what: str) -> None:
    deadline = time.monotonic() + within_s
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"not within {within_s}s: {what}")
        await asyncio.sleep(0.1)


async def _serve(settings):
    proc = start_server(PORT, server_env(settings))
    await asyncio.to_thread(wait_ready, PORT, proc=proc)
    return proc


async def test_simulator_survives_a_restarting_server_and_stops_cleanly(demo_db, settings) -> None:
    sim = Simulator(settings, base_url=BASE, seed=7, rate=4.0, workers=6)
    sim.step_s = 0.25
    run = asyncio.create_task(sim.run(handle_signals=False))
    proc = None
    try:
        await _until(lambda: sim.api.down_since is not None, 10, "noticing that nobody listens")
        assert sim.stats["logins"] == 0

        proc = await _serve(settings)
        await _until(lambda: sim.stats["logins"] >= 2 and sim.stats["alerts"] >= 1, 40, "logins and alerts")
        assert sim.api.down_since is None

        await asyncio.to_thread(stop, proc)
        await _until(lambda: sim.api.down_since is not None, 20, "noticing the server went away")
        alerts_before = sim.stats["alerts"]

        proc = await _serve(settings)
        await _until(lambda: sim.stats["logins"] == 6 and sim.stats["alerts"] > alerts_before
                     and sim.stats["positions"] > 0, 40, "carrying on after the restart")
        assert sim.api.down_since is None and sim.api.errors > 0
        sim.stop.set()
        assert await asyncio.wait_for(run, 15) == 0
        assert not sim._inflight and sim.api.http.is_closed

        await _missing_routes_are_skipped_and_logins_retried()
    finally:
        sim.stop.set()
        await asyncio.wait_for(asyncio.gather(run, return_exceptions=True), 15)
        if proc is not None:
            await asyncio.to_thread(stop, proc)


async def _missing_routes_are_skipped_and_logins_retried() -> None:
    stopping = asyncio.Event()
    api = Api(BASE, stopping)
    try:
        who = Login("operator", "demo1234")
        assert await api.call(who, "GET", "/api/v1/no-such-route") is None
        assert not api.available("/api/v1/no-such-route")  # skipped for a while, not hammered
        # A domain 404 (a real route, an unknown thing) is an answer, not a missing route.
        answer = await api.call(who, "GET", "/api/v1/orders/999999999")
        assert answer is not None and answer.status_code == 404
        login = asyncio.create_task(api.login(Login("operator", "not-the-password")))
        await asyncio.sleep(0.5)
        assert not login.done()  # keeps trying (the demo may still be loading) until stopped
        stopping.set()
        await asyncio.wait_for(asyncio.gather(login, return_exceptions=True), 5)
        assert login.done()
    finally:
        await api.aclose()
