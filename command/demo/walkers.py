"""How grid workers move: patrol from one spot of their grid to the next on foot or by e-bike, stop a while
at each (a household visit, a check), now and then cross into a neighbouring grid or go home."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from shapely.strtree import STRtree

from command.demo.index import CityIndex
from command.demo.people import WorkerSpec
from command.demo.sim_client import Login

M_PER_DEG_LAT = 111_320.0
GPS_NOISE_M = 3.0
MAX_PENDING = 40  # positions kept while the server is away; older ones are dropped


@dataclass
class Walker:
    spec: WorkerSpec
    login: Login
    lon: float
    lat: float
    speed_mps: float
    target: tuple[float, float] | None = None
    dwell_until: float = 0.0
    pending: list[dict[str, Any]] = field(default_factory=list)
    posting: bool = False
    errand: tuple[float, float] | None = None  # an order's place: go there and stay until it is resolved


class Patrols:
    """Targets for each walker: mostly inside its own grid, sometimes next door, sometimes home."""

    def __init__(self, city: CityIndex, rng: np.random.Generator) -> None:
        self.city = city
        self.rng = rng
        grids = city.level("grid")
        tree = STRtree([g.geom for g in grids])
        self.neighbours: dict[str, list[str]] = {}
        for g in grids:
            near = tree.query(g.geom, predicate="touches")
            self.neighbours[g.code] = [grids[int(i)].code for i in near if grids[int(i)].code != g.code]

    def walkers(self, crew: list[WorkerSpec], password: str) -> list[Walker]:
        out = []
        for w in crew:
            on_bike = self.rng.random() < 0.4  # many grid workers ride e-bikes
            speed = float(self.rng.uniform(3.5, 5.5) if on_bike else self.rng.uniform(1.0, 1.5))
            out.append(Walker(w, Login(w.username, password), w.home[0], w.home[1], speed))
        return out

    def next_target(self, w: Walker) -> tuple[float, float]:
        if w.errand is not None:
            return w.errand
        roll = self.rng.random()
        if roll < 0.05:
            return w.spec.home
        grid = w.spec.grid_code
        if roll < 0.17 and self.neighbours.get(grid):
            grid = str(self.rng.choice(self.neighbours[grid]))
        return self.city.points_in(grid, 1, self.rng)[0]

    def step(self, w: Walker, now: float, dt: float) -> None:
        """Advance one walker by dt seconds and record where it is."""
        if now >= w.dwell_until:
            if w.target is None:
                w.target = self.next_target(w)
            kx = M_PER_DEG_LAT * math.cos(math.radians(w.lat))
            dx, dy = (w.target[0] - w.lon) * kx, (w.target[1] - w.lat) * M_PER_DEG_LAT
            dist = math.hypot(dx, dy)
            reach = w.speed_mps * dt * float(self.rng.uniform(0.8, 1.2))
            if dist <= reach:
                w.lon, w.lat = w.target
                w.target = None
                # On an errand the worker stays until the order is resolved (the responder sends it on).
                w.dwell_until = math.inf if w.errand is not None else now + float(self.rng.uniform(20, 240))
            else:
                # Not a ruler line: drift a little sideways, as streets and paths do.
                side = float(self.rng.normal(0, 0.15))
                ux, uy = dx / dist, dy / dist
                w.lon += (ux - side * uy) * reach / kx
                w.lat += (uy + side * ux) * reach / M_PER_DEG_LAT
        noise = self.rng.normal(0, GPS_NOISE_M, size=2)
        w.pending.append({
            "lon": round(w.lon + noise[0] / (M_PER_DEG_LAT * math.cos(math.radians(w.lat))), 7),
            "lat": round(w.lat + noise[1] / M_PER_DEG_LAT, 7),
            "ts": round(now, 3),
        })
        del w.pending[:-MAX_PENDING]
