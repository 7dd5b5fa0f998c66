"""Workers answer their orders as people do: read it, accept after a few seconds (a few decline), go there,
stay a while, report it resolved. Orders are found by polling GET /api/v1/workers/me/orders — every worker
in turn, and at once those an alert was just dispatched to."""

from __future__ import annotations

import math
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from command.demo.catalog import CATEGORY_BY_CODE
from command.demo.sim_client import Api
from command.demo.walkers import M_PER_DEG_LAT, Walker


class Host(Protocol):
    """What the responders use of the simulator that runs them (command.demo.simulator.Simulator)."""

    api: Api
    rng: np.random.Generator
    walkers: list[Walker]
    stats: Counter[str]

    async def _pause(self, seconds: float) -> None: ...

OFFERED = ("sent", "delivered", "read")
ACCEPT_AFTER_S = (3.0, 20.0)
DECLINE_SHARE = 0.05
ON_SITE_S = (20.0, 120.0)
ARRIVED_M = 30.0
POLL_EVERY_S = 3.0
POLL_SLICE = 10
DECLINE_REASONS = ("正在处理另一起事件，无法前往", "车辆故障，请改派附近网格员", "不在辖区，距离较远")
NOTES = {
    "emergency": ("已到达现场，配合相关部门完成处置，现场已恢复安全", "已到场处置，隐患已排除，已向指挥中心反馈"),
    "service": ("已上门了解情况并完成办理，群众表示满意", "已现场核实并协调解决，已告知反映人办理结果"),
}


@dataclass
class Job:
    order_id: int
    walker: Walker
    lon: float
    lat: float
    group: str
    accept_at: float | None = None
    declined: bool = False
    accepted: bool = False
    resolve_at: float | None = None


class Responders:
    def __init__(self, sim: Host) -> None:
        self.sim = sim
        self.jobs: dict[int, Job] = {}
        self.by_worker_id: dict[int, Walker] = {}
        self.hot: set[str] = set()  # usernames to poll at the next round
        self._cursor = 0

    def dispatched(self, orders: list[dict[str, Any]]) -> None:
        """An alert response names the workers it was offered to: poll them first."""
        for o in orders:
            w = self.by_worker_id.get(o.get("worker_id") or -1)
            if w is not None:
                self.hot.add(w.spec.username)

    async def run(self) -> None:
        while True:
            await self.sim._pause(POLL_EVERY_S)
            ready = [w for w in self.sim.walkers if w.login.token]
            for w in ready:
                if w.login.worker_id is not None:
                    self.by_worker_id[w.login.worker_id] = w
            batch = [w for w in ready if w.spec.username in self.hot]
            if ready:
                for _ in range(min(POLL_SLICE, len(ready))):
                    self._cursor = (self._cursor + 1) % len(ready)
                    batch.append(ready[self._cursor])
            self.hot.clear()
            for w in {w.spec.username: w for w in batch}.values():
                await self._poll(w)
            await self._progress(time.time())

    async def _poll(self, w: Walker) -> None:
        r = await self.sim.api.call(w.login, "GET", "/api/v1/workers/me/orders")
        if r is None or r.status_code != 200:
            return
        for item in r.json().get("items", []):
            if item["id"] in self.jobs:
                continue
            incident = item.get("incident") or {}
            category = CATEGORY_BY_CODE.get(incident.get("category_code", ""))
            job = Job(item["id"], w, incident.get("lon", w.lon), incident.get("lat", w.lat),
                      category.group if category else "service")
            if item["status"] in OFFERED:
                job.accept_at = time.time() + float(self.sim.rng.uniform(*ACCEPT_AFTER_S))
                job.declined = bool(self.sim.rng.random() < DECLINE_SHARE)
            elif item["status"] == "accepted":
                self._go(job)
            else:
                continue
            self.jobs[job.order_id] = job

    def _go(self, job: Job) -> None:
        job.accepted = True
        job.walker.errand = (job.lon, job.lat)
        job.walker.target = (job.lon, job.lat)
        job.walker.dwell_until = 0.0

    async def _progress(self, now: float) -> None:
        for job in list(self.jobs.values()):
            if job.accept_at is not None and not job.accepted and now >= job.accept_at:
                if job.declined:
                    await self._act(job, "decline", {"reason": str(self.sim.rng.choice(DECLINE_REASONS))})
                    del self.jobs[job.order_id]
                    continue
                if await self._act(job, "accept", None):
                    self._go(job)
                    self.sim.stats["orders_accepted"] += 1
                else:
                    del self.jobs[job.order_id]
            elif job.accepted and job.resolve_at is None and _distance_m(job) <= ARRIVED_M:
                job.resolve_at = now + float(self.sim.rng.uniform(*ON_SITE_S))
            elif job.resolve_at is not None and now >= job.resolve_at:
                if await self._act(job, "resolve", {"note": str(self.sim.rng.choice(NOTES[job.group]))}):
                    self.sim.stats["orders_resolved"] += 1
                job.walker.errand = None
                job.walker.dwell_until = now + 10.0
                del self.jobs[job.order_id]

    async def _act(self, job: Job, action: str, body: dict[str, Any] | None) -> bool:
        r = await self.sim.api.call(job.walker.login, "POST", f"/api/v1/orders/{job.order_id}/{action}", json=body,
                                    headers={"Idempotency-Key": f"sim-{uuid.uuid4()}"})
        # 409: the order moved on meanwhile (timed out, re-dispatched, cancelled) — the worker lets it go.
        return r is not None and r.status_code < 300


def _distance_m(job: Job) -> float:
    w = job.walker
    kx = M_PER_DEG_LAT * math.cos(math.radians(w.lat))
    return math.hypot((job.lon - w.lon) * kx, (job.lat - w.lat) * M_PER_DEG_LAT)
