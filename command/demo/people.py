"""The demo's people: grid workers living in their grids, and the demo accounts (admin, operators,
supervisor, department liaisons). Deterministic per seed; every account has the same documented password."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from command.demo import names
from command.demo.catalog import DepartmentSpec
from command.demo.index import CityIndex

DEMO_PASSWORD = "demo1234"
SKILLS = ("first_aid", "mediation", "elderly_care", "fire_safety", "electrical", "legal_aid")


@dataclass(frozen=True, slots=True)
class AccountSpec:
    username: str
    display_name: str
    role: str
    region_code: str | None = None
    department_code: str | None = None
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class WorkerSpec:
    username: str
    name: str
    phone: str
    kind: str  # leader (网格长) | fulltime (专职网格员) | parttime (兼职微网格员)
    grid_code: str
    home: tuple[float, float]  # lon, lat inside the grid
    skills: list[str] = field(default_factory=list)
    max_load: int = 2


def person(rng: np.random.Generator) -> tuple[str, str]:
    name = str(rng.choice(list(names.SURNAMES))) + str(rng.choice(names.GIVEN))
    prefix = str(rng.choice(["39", "38", "37", "58", "59", "87", "77", "33"]))
    phone = f"1{prefix}{int(rng.integers(0, 10**8)):08d}"
    return name, phone


def workers(city: CityIndex, seed: int) -> list[WorkerSpec]:
    """One worker per grid (the first grid of each community has the 网格长), plus part-time
    micro-grid liaisons (微网格员) in the first two grids of every third community."""
    rng = np.random.default_rng(seed + 1_000)
    out: list[WorkerSpec] = []
    communities = sorted(city.level("community"), key=lambda c: c.code)
    for ci, community in enumerate(communities):
        for gi, grid in enumerate(sorted(city.children[community.code], key=lambda g: g.code)):
            kind = "leader" if gi == 0 else "fulltime"
            crew = [kind] + (["parttime"] if ci % 3 == 0 and gi < 2 else [])
            for k in crew:
                name, phone = person(rng)
                skills = sorted({str(s) for s in rng.choice(SKILLS, size=int(rng.integers(0, 3)), replace=False)})
                out.append(WorkerSpec(
                    username=f"w{len(out) + 1:04d}", name=name, phone=phone, kind=k, grid_code=grid.code,
                    home=city.points_in(grid.code, 1, rng)[0], skills=skills,
                    max_load={"leader": 3, "fulltime": 2, "parttime": 1}[k],
                ))
    return out


def accounts(city: CityIndex, departments: list[DepartmentSpec], seed: int) -> list[AccountSpec]:
    """Admin, a district operator, one operator per street, a supervisor, a liaison per department."""
    rng = np.random.default_rng(seed + 2_000)
    district = city.district
    out = [
        AccountSpec("admin", "系统管理员", "admin"),
        AccountSpec("operator", f"{district.name}指挥中心值班员", "operator", district.code),
        AccountSpec("supervisor", f"{district.name}督查室", "supervisor", district.code),
    ]
    for i, street in enumerate(sorted(city.level("street"), key=lambda s: s.code), start=1):
        out.append(AccountSpec(f"op-{i}", f"{street.name}值班员", "operator", street.code, phone=person(rng)[1]))
    for dep in departments:
        name, phone = person(rng)
        out.append(AccountSpec(dep.liaison, f"{dep.name}联络员{name}", "liaison", dep.region_code, dep.code, phone))
    return out
