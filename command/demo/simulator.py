"""`gridcmd simulate`: keep the demo city alive over HTTP, as its people would.

Behaviours run side by side until stopped (Ctrl-C, SIGTERM, --duration, or the server process gone):
  logins      the workers log in a few at a time (argon2 is deliberately slow), the operator first
  movement    every worker patrols its grid; positions go to POST /api/v1/workers/me/position in batches
  alerts      believable reports at a Poisson rate to POST /api/v1/alerts (hotline/app/sensor as the
              operator, patrol findings as the worker standing there)
  responders  workers accept (a few decline) the orders offered to them, go there, resolve them
  report      a line of figures every 30 s
To add one (e.g. liaisons signing for work orders), write `async def x(self) -> None` that
loops until `self.stop` is set and append it in `behaviours()`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
import uuid
from collections import Counter
from collections.abc import Callable, Coroutine
from typing import Any

import numpy as np

from command.core.settings import Settings
from command.demo import alert_texts, people
from command.demo.catalog import CATEGORY_BY_CODE
from command.demo.city import generate_city
from command.demo.index import CityIndex
from command.demo.responders import Responders
from command.demo.sim_client import Api, Login, Stopped, log
from command.demo.walkers import Patrols, Walker
from geo.coords import from_wgs84

POSITION_ROUTE = "/api/v1/workers/me/position"
ALERT_ROUTE = "/api/v1/alerts"
BATCH = 4  # positions per post: one post per worker every BATCH steps
LOGIN_CONCURRENCY = 2
MAX_ALERTS_IN_FLIGHT = 8  # a slow server slows the alerts down instead of piling them up


class Simulator:
    def __init__(self, settings: Settings, *, base_url: str, seed: int = 7, rate: float | None = None,
                 duration: float = 0, alive: Callable[[], bool] | None = None, workers: int | None = None) -> None:
        self.rate = settings.simulate_alert_rate if rate is None else rate
        self.step_s = settings.simulate_workers_step_s
        self.duration = duration
        self.alive = alive
        self.stop = asyncio.Event()
        self.api = Api(base_url, self.stop)
        self.rng = np.random.default_rng(seed + 4_000)
        self.city = CityIndex(generate_city(seed))
        self.patrols = Patrols(self.city, self.rng)
        crew = people.workers(self.city, seed)
        if workers is not None and workers < len(crew):  # a smaller crew, spread over the city
            crew = [crew[round(i * len(crew) / workers)] for i in range(workers)]
        self.walkers: list[Walker] = self.patrols.walkers(crew, people.DEMO_PASSWORD)
        self.operator = Login("operator", people.DEMO_PASSWORD)
        self.responders = Responders(self)
        self._inflight: set[asyncio.Task[None]] = set()
        self.stats: Counter[str] = Counter()
        self.exit_code = 0

    def behaviours(self) -> list[Callable[[], Coroutine[None, None, None]]]:
        return [self.logins, self.movement, self.alerts, self.responders.run, self.report]

    async def run(self, *, handle_signals: bool = True) -> int:
        loop = asyncio.get_running_loop()
        signals = (signal.SIGINT, signal.SIGTERM) if handle_signals else ()
        for sig in signals:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self.stop.set)
        log.info("simulating %d workers, %.2f alerts/s against %s", len(self.walkers), self.rate,
                 self.api.http.base_url)
        tasks = [asyncio.create_task(self._guard(b())) for b in self.behaviours()]
        tasks.append(asyncio.create_task(self._watch()))
        try:
            await self.stop.wait()
        finally:
            for t in [*tasks, *self._inflight]:
                t.cancel()
            await asyncio.gather(*tasks, *self._inflight, return_exceptions=True)
            for sig in signals:
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(sig)
            await self.api.aclose()
            log.info("simulator stopped: %s", dict(self.stats))
        return self.exit_code

    async def _guard(self, behaviour: Coroutine[None, None, None]) -> None:
        with contextlib.suppress(Stopped, asyncio.CancelledError):
            await behaviour

    async def _watch(self) -> None:
        started = time.monotonic()
        while not self.stop.is_set():
            if self.duration and time.monotonic() - started >= self.duration:
                self.stop.set()
            if self.alive is not None and not self.alive():
                log.error("the server process has exited; stopping")
                self.exit_code = 1
                self.stop.set()
            await asyncio.sleep(0.5)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop.wait(), timeout=seconds)
        if self.stop.is_set():
            raise Stopped

    # -- behaviours -------------------------------------------------------------------------------
    async def logins(self) -> None:
        await self.api.login(self.operator)
        gate = asyncio.Semaphore(LOGIN_CONCURRENCY)

        async def one(w: Walker) -> None:
            async with gate:
                await self.api.login(w.login)
                self.stats["logins"] += 1

        await asyncio.gather(*(one(w) for w in self.walkers))
        log.info("all %d workers logged in", len(self.walkers))

    async def movement(self) -> None:
        last = time.time()
        tick = 0
        while True:
            await self._pause(self.step_s)
            now, tick = time.time(), tick + 1
            for i, w in enumerate(self.walkers):
                self.patrols.step(w, now, now - last)
                # Each worker posts every BATCH steps, the workers spread over the steps.
                if w.login.token and w.pending and (tick + i) % BATCH == 0 and not w.posting:
                    w.posting = True
                    task = asyncio.create_task(self._post_positions(w))
                    self._inflight.add(task)
                    task.add_done_callback(self._inflight.discard)
            last = now

    async def _post_positions(self, w: Walker) -> None:
        batch = list(w.pending)
        try:
            r = await self.api.call(w.login, "POST", POSITION_ROUTE, json={"positions": batch})
            if r is not None and r.status_code < 300:
                del w.pending[: len(batch)]
                self.stats["positions"] += len(batch)
            elif r is not None:
                self.stats[f"positions_http_{r.status_code}"] += 1
                del w.pending[: len(batch)]  # refused as invalid: do not resend the same points
        except Stopped:
            pass
        finally:
            w.posting = False

    async def alerts(self) -> None:
        if self.rate <= 0:
            return
        gate = asyncio.Semaphore(MAX_ALERTS_IN_FLIGHT)
        while True:
            await self._pause(float(self.rng.exponential(1 / self.rate)))
            # Reports arrive on their own clock, not when the server has answered the previous one.
            await gate.acquire()
            task = asyncio.create_task(self._raise_one())
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)
            task.add_done_callback(lambda _: gate.release())

    async def _raise_one(self) -> None:
        with contextlib.suppress(Stopped):
            await self._report_alert()

    async def _report_alert(self) -> None:
        code = alert_texts.pick_category(self.rng)
        category = CATEGORY_BY_CODE[code]
        channel = self._channel(category.group, code)
        who, lon, lat = self.operator, None, None
        if channel == "patrol":
            ready = [w for w in self.walkers if w.login.token]
            if ready:
                w = ready[int(self.rng.integers(len(ready)))]
                who, lon, lat = w.login, w.lon, w.lat
            else:
                channel = "hotline"
        if lon is None or lat is None:
            micros = self.city.level("microgrid")
            micro = micros[int(self.rng.integers(len(micros)))]
            lon, lat = self.city.points_in(micro.code, 1, self.rng)[0]
        place = self.city.microgrid_at(lon, lat)
        community = self.city.ancestor(place.code, "community").name if place else ""
        body: dict[str, Any] = {"category": code, "description": alert_texts.describe(code, community, self.rng),
                      "channel": channel, "crs": "wgs84", "lon": round(lon, 7), "lat": round(lat, 7)}
        if channel == "app":  # a WeChat mini-program reports GCJ-02
            glon, glat = from_wgs84(lon, lat, "gcj02")
            body.update(crs="gcj02", lon=round(glon, 7), lat=round(glat, 7))
        if channel in ("hotline", "app"):
            name, phone = people.person(self.rng)
            body["reporter"] = {"name": name, "phone": phone}
        if code == "person_injured" and "老人" in body["description"]:
            body["priority"] = 1
        r = await self.api.call(who, "POST", ALERT_ROUTE, json=body,
                                headers={"Idempotency-Key": f"sim-{uuid.uuid4()}"})
        if r is not None:
            self.stats["alerts" if r.status_code < 300 else f"alerts_http_{r.status_code}"] += 1
            if r.status_code < 300:
                self.responders.dispatched(r.json().get("orders", []))

    def _channel(self, group: str, code: str) -> str:
        if group == "emergency":
            options = ["hotline", "app", "sensor"] if code in ("fire", "gas_leak", "flooding") else ["hotline", "app"]
            weights = [0.6, 0.2, 0.2] if len(options) == 3 else [0.7, 0.3]
        else:
            options, weights = ["hotline", "app", "patrol"], [0.4, 0.3, 0.3]
        return str(self.rng.choice(options, p=weights))

    async def report(self) -> None:
        while True:
            await self._pause(30)
            down = f", server down {time.monotonic() - self.api.down_since:.0f} s" if self.api.down_since else ""
            log.info("figures: %s, retries %d%s", dict(self.stats), self.api.errors, down)


def run_simulator(settings: Settings, *, base_url: str, seed: int = 7, rate: float | None = None,
                  duration: float = 0, alive: Callable[[], bool] | None = None) -> int:
    if not logging.getLogger().handlers:
        logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    sim = Simulator(settings, base_url=base_url, seed=seed, rate=rate, duration=duration, alive=alive)
    return asyncio.run(sim.run())
