"""The soak's people: hotline operators raising alerts at a Poisson rate, every worker's phone reporting its
position every ~30 s, and workers accepting their orders after a few seconds and resolving them a few minutes
later (so capacity is given back and load does not just pile up). Tokens are minted, not logged in (argon2 is
slow on purpose); alerts are raised near a random worker's home, in the demo city's categories and words."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
import uuid
from collections import Counter
from collections.abc import Coroutine
from dataclasses import dataclass, field

import httpx
import numpy as np

from command.demo import alert_texts, people

ALERT_ROUTE = "/api/v1/alerts"
POSITION_ROUTE = "/api/v1/workers/me/position"
ACCEPT_AFTER_S = (3.0, 20.0)  # reading the order on the phone
# Going there and dealing with it, after accepting: short, because 5 alerts/s on the demo city's 320 workers
# (650 orders of capacity) is one alert per worker a minute; longer jobs would only measure the overload.
RESOLVE_AFTER_S = (30.0, 90.0)
JITTER_DEG = 0.003  # ~300 m: alerts happen around workers' grids
ORDER_POLL_S = 120.0  # the app re-reads "my orders" (re-dispatched offers the driver did not see)
IN_FLIGHT = 48  # requests in flight per kind (alerts, phones, order actions): one kind never queues behind another


@dataclass
class Member:
    worker_id: int
    token: str
    home: tuple[float, float]
    posting: bool = False  # a phone sends its next report only once the previous one is answered

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Crowd:
    base_url: str
    operator_token: str
    crew: list[Member]
    rate: float
    position_every_s: float = 30.0
    seed: int = 19
    stats: Counter[str] = field(default_factory=Counter)
    alert_latency: list[tuple[float, float]] = field(default_factory=list)  # (monotonic sent, seconds)
    positions_on: bool = True
    alerts_on: bool = True
    _actions: list[tuple[float, int, str, int, Member]] = field(default_factory=list)  # due, seq, action, order
    _seen: set[int] = field(default_factory=set)
    _seq: itertools.count = field(default_factory=itertools.count)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _alerts_waiting: int = 0

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng(self.seed)
        self.by_worker = {m.worker_id: m for m in self.crew}
        # A slow server slows the driver down (bounded in flight) instead of piling requests up without end.
        self.gates = {k: asyncio.Semaphore(IN_FLIGHT) for k in ("alert", "phone", "order")}

    def _spawn(self, coro: Coroutine[None, None, None]) -> None:
        t = asyncio.create_task(coro)
        self._tasks.add(t)
        t.add_done_callback(self._tasks.discard)

    async def run(self, stop: asyncio.Event) -> None:
        limits = httpx.Limits(max_connections=3 * IN_FLIGHT, max_keepalive_connections=3 * IN_FLIGHT)
        async with httpx.AsyncClient(base_url=self.base_url, timeout=60, limits=limits) as self.http:
            tasks = [asyncio.create_task(c) for c in (self._alerts(stop), self._positions(stop), self._act(stop))]
            await stop.wait()
            for t in [*tasks, *self._tasks]:
                t.cancel()
            await asyncio.gather(*tasks, *self._tasks, return_exceptions=True)

    async def _call(self, kind: str, method: str, route: str, headers: dict[str, str],
                    **kw: object) -> httpx.Response | None:
        async with self.gates[kind]:
            try:
                r = await self.http.request(method, route, headers=headers, **kw)  # type: ignore[arg-type]
            except httpx.HTTPError as exc:
                self.stats[f"error_{type(exc).__name__}"] += 1
                return None
        if r.status_code >= 400:
            self.stats[f"http_{r.status_code}_{route.rsplit('/', 1)[-1]}"] += 1
        return r

    # -- alerts ---------------------------------------------------------------------------------------------------
    async def _alerts(self, stop: asyncio.Event) -> None:
        next_at = time.monotonic()
        while not stop.is_set():
            next_at += float(self.rng.exponential(1 / self.rate))
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            if not self.alerts_on:
                continue
            if self._alerts_waiting >= IN_FLIGHT:  # the server is far behind: counted, not queued without end
                self.stats["alerts_not_sent_server_behind"] += 1
                continue
            self._spawn(self._raise())

    async def _raise(self) -> None:
        self._alerts_waiting += 1
        try:
            await self._raise_one()
        finally:
            self._alerts_waiting -= 1

    async def _raise_one(self) -> None:
        near = self.crew[int(self.rng.integers(len(self.crew)))].home
        lon, lat = (near[0] + float(self.rng.uniform(-JITTER_DEG, JITTER_DEG)),
                    near[1] + float(self.rng.uniform(-JITTER_DEG, JITTER_DEG)))
        code = alert_texts.pick_category(self.rng)
        name, phone = people.person(self.rng)
        body = {"category": code, "description": alert_texts.describe(code, "", self.rng), "channel": "hotline",
                "lon": round(lon, 7), "lat": round(lat, 7), "reporter": {"name": name, "phone": phone}}
        t0 = time.monotonic()
        r = await self._call("alert", "POST", ALERT_ROUTE, {"Authorization": f"Bearer {self.operator_token}",
                                                   "Idempotency-Key": f"soak-{uuid.uuid4()}"}, json=body)
        if r is None or r.status_code >= 300:
            return
        self.alert_latency.append((t0, time.monotonic() - t0))
        self.stats["alerts"] += 1
        for o in r.json().get("orders", []):
            self._offered(o)

    # -- orders ---------------------------------------------------------------------------------------------------
    def _offered(self, order: dict) -> None:
        m = self.by_worker.get(order.get("worker_id") or -1)
        if m is None or order["id"] in self._seen:
            return
        self._seen.add(order["id"])
        if order.get("status") == "accepted":
            self._schedule(float(self.rng.uniform(*RESOLVE_AFTER_S)), "resolve", order["id"], m)
        elif order.get("status") in ("sent", "delivered", "read", "offered"):
            self._schedule(float(self.rng.uniform(*ACCEPT_AFTER_S)), "accept", order["id"], m)

    def _schedule(self, delay: float, action: str, order_id: int, m: Member) -> None:
        heapq.heappush(self._actions, (time.monotonic() + delay, next(self._seq), action, order_id, m))

    async def _act(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            now = time.monotonic()
            while self._actions and self._actions[0][0] <= now:
                _, _, action, order_id, m = heapq.heappop(self._actions)
                self._spawn(self._do(action, order_id, m))
            await asyncio.sleep(0.2)

    async def _do(self, action: str, order_id: int, m: Member) -> None:
        body = {"note": "已到场处置，群众表示满意"} if action == "resolve" else None
        r = await self._call("order", "POST", f"/api/v1/orders/{order_id}/{action}",
                             {**m.headers, "Idempotency-Key": f"soak-{uuid.uuid4()}"}, json=body)
        if r is not None and r.status_code < 300:
            self.stats["orders_resolved" if action == "resolve" else "orders_accepted"] += 1
            if action == "accept":
                self._schedule(float(self.rng.uniform(*RESOLVE_AFTER_S)), "resolve", order_id, m)

    # -- phones ---------------------------------------------------------------------------------------------------
    async def _positions(self, stop: asyncio.Event) -> None:
        """Each worker in turn, spread evenly over position_every_s; every other round also reads its orders."""
        n = len(self.crew)
        rounds = 0
        while not stop.is_set():
            started = time.monotonic()
            poll = rounds % max(1, round(ORDER_POLL_S / self.position_every_s)) == 0
            for i, m in enumerate(self.crew):
                await asyncio.sleep(max(0.0, started + i * self.position_every_s / n - time.monotonic()))
                if self.positions_on and not m.posting:
                    m.posting = True
                    self._spawn(self._phone(m, poll))
                elif self.positions_on:
                    self.stats["positions_skipped_previous_unanswered"] += 1
            rounds += 1
            await asyncio.sleep(max(0.0, started + self.position_every_s - time.monotonic()))

    async def _phone(self, m: Member, poll: bool) -> None:
        try:
            await self._report(m, poll)
        finally:
            m.posting = False

    async def _report(self, m: Member, poll: bool) -> None:
        lon = m.home[0] + float(self.rng.normal(0, 0.001))
        lat = m.home[1] + float(self.rng.normal(0, 0.001))
        r = await self._call("phone", "POST", POSITION_ROUTE, m.headers,
                             json={"lon": round(lon, 7), "lat": round(lat, 7)})
        if r is not None and r.status_code < 300:
            self.stats["positions"] += 1
        if poll:
            r = await self._call("phone", "GET", "/api/v1/workers/me/orders", m.headers)
            if r is not None and r.status_code == 200:
                for item in r.json().get("items", []):
                    self._offered({**item, "worker_id": m.worker_id})


def latency_by_window(samples: list[tuple[float, float]], t0: float, window_s: float) -> list[dict]:
    """Client-side alert POST latency (ms) per window of the run: the driver's view of drift."""
    out = []
    if not samples:
        return out
    arr = np.array(samples)
    k = np.floor((arr[:, 0] - t0) / window_s).astype(int)
    for w in range(int(k.max()) + 1):
        v = arr[k == w, 1] * 1000
        if len(v):
            out.append({"window": w, "n": len(v), "p50_ms": round(float(np.percentile(v, 50)), 1),
                        "p99_ms": round(float(np.percentile(v, 99)), 1)})
    return out

