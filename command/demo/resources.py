"""Emergency resource points of the demo city (应急资源一张图): hospitals, police stations, shelters,
AEDs, hydrants and cameras, placed inside the regions that would have them. Deterministic per seed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from command.demo.index import CityIndex

HOSPITALS = ("{d}区人民医院", "{d}区中医院", "{d}区妇幼保健院", "市第一医院{d}分院", "{d}区第二人民医院")
AED_PLACES = ("社区服务中心", "地铁站口", "菜市场", "小学门卫室", "街心公园", "老年活动中心")


@dataclass(frozen=True, slots=True)
class ResourceSpec:
    key: str  # stable demo key: the loader upserts by it
    kind: str
    name: str
    lon: float
    lat: float
    properties: dict[str, Any] = field(default_factory=dict)


def resources(city: CityIndex, seed: int) -> list[ResourceSpec]:
    rng = np.random.default_rng(seed + 3_000)
    d_short = city.district.name.removesuffix("区")
    streets = sorted(city.level("street"), key=lambda s: s.code)
    communities = sorted(city.level("community"), key=lambda c: c.code)
    grids = sorted(city.level("grid"), key=lambda g: g.code)
    out: list[ResourceSpec] = []

    def add(kind: str, name: str, code: str, n: int = 1, **props: object) -> None:
        for lon, lat in city.points_in(code, n, rng):
            key = f"{kind}-{sum(r.kind == kind for r in out) + 1:04d}"
            out.append(ResourceSpec(key, kind, name.format(n=key[-4:]), lon, lat, dict(props)))

    for i, template in enumerate(HOSPITALS):
        add("hospital", template.format(d=d_short), streets[i % len(streets)].code,
            beds=int(rng.integers(200, 1200)), phone=f"025-8470{i:04d}")
    for i, street in enumerate(streets, start=1):
        add("police_station", f"{street.name.removesuffix('街道')}派出所", street.code,
            department_code=f"police-{street.code}", phone=f"025-8466{i:04d}")
    for community in communities:
        short = community.name.removesuffix("社区")
        add("shelter", f"{short}应急避难场所", community.code, capacity=int(rng.integers(3, 30)) * 100)
        for place in rng.choice(AED_PLACES, size=2, replace=False):
            add("aed", f"AED·{short}{place}", community.code)
    for grid in grids:
        pressure = round(float(rng.uniform(0.15, 0.4)), 2)
        add("hydrant", "消火栓 XH-{n}", grid.code, int(rng.integers(1, 3)), pressure_mpa=pressure)
        if rng.random() < 0.5:
            add("camera", "视频监控 SP-{n}", grid.code, online=bool(rng.random() > 0.05))
    return out
