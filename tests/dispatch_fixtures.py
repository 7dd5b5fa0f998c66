"""Small worlds for dispatch tests: a district of rectangles, categories, rules, departments, workers with
accounts, and tokens minted directly (no password hashing: hundreds of workers must be cheap)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from geoalchemy2 import WKTElement
from redis.asyncio import Redis
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from command.core.db import make_sessionmaker
from command.core.models import Category, Department, Event, Incident, Order, RoutingRule, User, Worker
from command.core.security import Principal, issue_token
from command.core.settings import Settings
from dispatch import keys, presence
from geo.imports import import_regions

LON0, LAT0 = 118.70, 32.00
STEP = 0.01  # degrees (~0.94 km east-west, ~1.11 km north-south here)


def at(x: float, y: float) -> tuple[float, float]:
    """A point in grid units (STEP degrees from LON0/LAT0)."""
    return LON0 + x * STEP, LAT0 + y * STEP


def _box(x0: float, y0: float, x1: float, y1: float) -> list:
    return [[list(at(x, y)) for x, y in [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]]]


def _feature(code: str, level: str, parent: str | None, coords: list) -> dict:
    return {"type": "Feature", "properties": {"code": code, "name": f"区域{code}", "level": level,
                                              "parent_code": parent},
            "geometry": {"type": "Polygon", "coordinates": coords}}


def district() -> dict:
    """D (4×4) → streets SA (west) and SB (east) → communities CA1 (SA south), CA2 (SA north), CB (= SB)
    → grids GA1 (CA1's south-west square), GB1 (CB's south-west square)."""
    return {"type": "FeatureCollection", "features": [
        _feature("D", "district", None, _box(0, 0, 4, 4)),
        _feature("SA", "street", "D", _box(0, 0, 2, 4)),
        _feature("SB", "street", "D", _box(2, 0, 4, 4)),
        _feature("CA1", "community", "SA", _box(0, 0, 2, 2)),
        _feature("CA2", "community", "SA", _box(0, 2, 2, 4)),
        _feature("CB", "community", "SB", _box(2, 0, 4, 4)),
        _feature("GA1", "grid", "CA1", _box(0, 0, 1, 1)),
        _feature("GB1", "grid", "CB", _box(2, 0, 3, 1)),
    ]}


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Haversine distance as Redis GEO computes it."""
    r = math.pi / 180
    u = math.sin((b[1] - a[1]) * r / 2)
    v = math.sin((b[0] - a[0]) * r / 2)
    h = u * u + math.cos(a[1] * r) * math.cos(b[1] * r) * v * v
    return 2 * 6372797.560856 * math.asin(math.sqrt(h))


@dataclass
class Who:
    principal: Principal
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def worker_id(self) -> int:
        assert self.principal.worker_id is not None
        return self.principal.worker_id


async def seed_world(session: AsyncSession, *, ack_timeout_s: int = 60, max_attempts: int = 3,
                     radius_m: float = 3000.0) -> None:
    """Regions; categories fire (1 worker + fire department; 2 workers in street SB), dispute (1 worker + police),
    noise (1 worker, nothing else), lost (no rule: the built-in default), retired (inactive); departments."""
    await import_regions(session, collection=district())
    session.add_all([
        Category(code="fire", name_zh="火情", name_en="Fire", group="emergency", default_priority=1,
                 item_type="promise"),
        Category(code="dispute", name_zh="矛盾纠纷", name_en="Dispute", group="service", default_priority=3,
                 item_type="promise"),
        Category(code="noise", name_zh="噪声", name_en="Noise", group="service", default_priority=4),
        Category(code="lost", name_zh="寻物", name_en="Lost property", group="service", default_priority=4),
        Category(code="retired", name_zh="停用", name_en="Retired", group="service", active=False),
    ])
    await session.flush()
    session.add_all([
        RoutingRule(category_code="fire", region_code=None, workers_needed=1, department_kinds=["fire"],
                    radius_m=radius_m, own_grid_first=True, ack_timeout_s=ack_timeout_s, max_attempts=max_attempts),
        RoutingRule(category_code="fire", region_code="SB", workers_needed=2, department_kinds=["fire"],
                    radius_m=radius_m, own_grid_first=True, ack_timeout_s=ack_timeout_s, max_attempts=max_attempts),
        RoutingRule(category_code="dispute", region_code=None, workers_needed=1, department_kinds=["police"],
                    radius_m=radius_m, own_grid_first=False, ack_timeout_s=ack_timeout_s,
                    max_attempts=max_attempts),
        RoutingRule(category_code="noise", region_code=None, workers_needed=1, department_kinds=[],
                    radius_m=radius_m, own_grid_first=False, ack_timeout_s=ack_timeout_s,
                    max_attempts=max_attempts),
        Department(code="fire-d", name="区消防", kind="fire", region_code="D"),
        Department(code="fire-sb", name="SB消防站", kind="fire", region_code="SB"),
        Department(code="police-sa", name="SA派出所", kind="police", region_code="SA"),
    ])
    await session.flush()


async def add_user(session: AsyncSession, settings: Settings, *, username: str, role: str,
                   region_code: str | None = None, department_code: str | None = None) -> Who:
    user = User(username=username, display_name=username, role=role, region_code=region_code,
                department_code=department_code, password_hash="!unusable")
    session.add(user)
    await session.flush()
    p = Principal(user_id=user.id, username=username, role=role, region_code=region_code,
                  department_code=department_code)
    return Who(p, issue_token(settings, p))


async def add_worker(session: AsyncSession, settings: Settings, *, name: str, home: tuple[float, float],
                     grid_codes: list[str] | None = None, max_load: int = 2) -> Who:
    user = User(username=f"w-{name}", display_name=name, role="worker", password_hash="!unusable")
    session.add(user)
    await session.flush()
    worker = Worker(user_id=user.id, name=name, grid_codes=grid_codes or [], max_load=max_load,
                    home=WKTElement(f"POINT({home[0]} {home[1]})", srid=4326))
    session.add(worker)
    await session.flush()
    p = Principal(user_id=user.id, username=user.username, role="worker", worker_id=worker.id)
    return Who(p, issue_token(settings, p))


async def add_workers(session: AsyncSession, settings: Settings, homes: list[tuple[float, float]], *,
                      max_load: int = 2) -> list[tuple[Who, tuple[float, float]]]:
    """Many workers at once (two INSERTs in all), each with an account and a token."""
    users = [User(username=f"w{i}", display_name=f"网格员{i}", role="worker", password_hash="!unusable")
             for i in range(len(homes))]
    session.add_all(users)
    await session.flush()
    workers = [Worker(user_id=u.id, name=u.display_name, grid_codes=[], max_load=max_load,
                      home=WKTElement(f"POINT({h[0]} {h[1]})", srid=4326)) for u, h in zip(users, homes, strict=True)]
    session.add_all(workers)
    await session.flush()
    out = []
    for u, w, h in zip(users, workers, homes, strict=True):
        p = Principal(user_id=u.id, username=u.username, role="worker", worker_id=w.id)
        out.append((Who(p, issue_token(settings, p)), h))
    return out


async def go_live(engine: AsyncEngine, redis: Redis, settings: Settings) -> None:
    """Rebuild the live state from the committed database (as a web process does at startup)."""
    from command.ops.sweeper import ensure_live

    await redis.delete(keys.LIVE_MARKER)
    await ensure_live(make_sessionmaker(engine), redis, settings)


async def place(redis: Redis, who: Who, where: tuple[float, float]) -> None:
    """The worker reports a position now (registering them in Redis if needed)."""
    res = await presence.report_positions(redis, worker_id=who.worker_id, positions=[(where[0], where[1], None)])
    assert res.registered, "go_live() before placing workers"


async def counts(engine: AsyncEngine) -> tuple[int, int, int]:
    """(incidents, orders, events): to prove that a refused request changed nothing."""
    async with engine.connect() as conn:
        row = (await conn.execute(select(
            select(func.count()).select_from(Incident).scalar_subquery(),
            select(func.count()).select_from(Order).scalar_subquery(),
            select(func.count()).select_from(Event).scalar_subquery(),
        ))).one()
    return tuple(row)  # type: ignore[return-value]


async def holding_by_worker(engine: AsyncEngine) -> dict[int, int]:
    async with engine.connect() as conn:
        rows = await conn.execute(text(
            "SELECT worker_id, count(*) FROM orders WHERE assignee_kind = 'worker' AND status IN "
            "('sent','delivered','read','accepted','signed_for','extended') GROUP BY worker_id"))
        return {int(w): int(n) for w, n in rows}


async def redis_loads(redis: Redis) -> dict[int, int]:
    return {w: n for w, n in (await presence.loads(redis)).items() if n}
