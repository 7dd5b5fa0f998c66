"""A small world for the closed-loop tests: two districts (D1 with two streets, D2 with one), each
street with a community and a grid; categories; departments; users of every role; incidents and orders
created directly with the models (the tests of intake live elsewhere)."""

from __future__ import annotations

import functools
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime

import httpx
from geoalchemy2 import WKTElement
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from command.core.models import Category, Department, Incident, Order, User, Worker
from command.core.security import hash_password
from command.core.settings import Settings
from geo.models import Region

PASSWORD = "secret-pw"

# code, parent, level, (minlon, minlat, maxlon, maxlat)
REGIONS = (
    ("D1", None, "district", (120.00, 30.00, 120.20, 30.10)),
    ("D1S1", "D1", "street", (120.00, 30.00, 120.10, 30.10)),
    ("D1S1C1", "D1S1", "community", (120.00, 30.00, 120.10, 30.10)),
    ("D1S1C1G1", "D1S1C1", "grid", (120.00, 30.00, 120.10, 30.10)),
    ("D1S2", "D1", "street", (120.10, 30.00, 120.20, 30.10)),
    ("D1S2C1", "D1S2", "community", (120.10, 30.00, 120.20, 30.10)),
    ("D1S2C1G1", "D1S2C1", "grid", (120.10, 30.00, 120.20, 30.10)),
    ("D2", None, "district", (120.00, 30.10, 120.20, 30.20)),
    ("D2S1", "D2", "street", (120.00, 30.10, 120.20, 30.20)),
    ("D2S1C1", "D2S1", "community", (120.00, 30.10, 120.20, 30.20)),
    ("D2S1C1G1", "D2S1C1", "grid", (120.00, 30.10, 120.20, 30.20)),
)
# A point inside each grid.
POINTS = {"D1S1C1G1": (120.05, 30.05), "D1S2C1G1": (120.15, 30.05), "D2S1C1G1": (120.10, 30.15)}

CATEGORIES = (
    ("road", "道路设施", "Road facilities", "service", 3, "promise"),
    ("water", "供水", "Water supply", "service", 2, "promise"),
    ("petition", "信访", "Petition", "service", 3, "promise"),
    ("noise", "噪音", "Noise", "service", 3, "answer"),
    ("fire", "火情", "Fire", "emergency", 1, "immediate"),
)
DEPARTMENTS = (("water_co", "自来水公司", "water"), ("power_co", "供电公司", "power"),
               ("roads_bureau", "市政道路", "roads"), ("police_d1", "派出所", "police"))


@dataclass
class World:
    users: dict[str, int] = field(default_factory=dict)
    worker_id: int | None = None


async def build(session: AsyncSession) -> World:
    """Everything but incidents; the caller commits (or rolls back)."""
    ids: dict[str, int] = {}
    for code, parent, level, (x0, y0, x1, y1) in REGIONS:
        path = [*_path(parent), code]
        wkt = f"MULTIPOLYGON((({x0} {y0},{x1} {y0},{x1} {y1},{x0} {y1},{x0} {y0})))"
        result = await session.execute(insert(Region).values(
            code=code, name=f"区域{code}", level=level, depth=len(path) - 1, parent_id=ids.get(parent or ""),
            path=path, geom=WKTElement(wkt, srid=4326)).returning(Region.id))
        ids[code] = result.scalar_one()
    for code, zh, en, group, prio, item in CATEGORIES:
        session.add(Category(code=code, name_zh=zh, name_en=en, group=group, default_priority=prio, item_type=item))
    for code, name, kind in DEPARTMENTS:
        session.add(Department(code=code, name=name, kind=kind, region_code="D1"))
    await session.flush()
    world = World()
    for name, role, region, dept in (
        ("admin", "admin", None, None), ("op1", "operator", "D1", None), ("op2", "operator", "D2", None),
        ("sup1", "supervisor", "D1", None), ("sup2", "supervisor", "D2", None),
        ("water", "liaison", None, "water_co"), ("power", "liaison", None, "power_co"),
        ("roads", "liaison", None, "roads_bureau"), ("police", "liaison", None, "police_d1"),
        ("w1", "worker", "D1S1C1G1", None),
    ):
        # One hash for every account (argon2 is slow on purpose); create_user is tested elsewhere.
        user = User(username=name, display_name=f"{name}的名字", role=role, region_code=region,
                    department_code=dept, password_hash=_password_hash())
        session.add(user)
        await session.flush()
        world.users[name] = user.id
    worker = Worker(user_id=world.users["w1"], name="网格员甲", grid_codes=["D1S1C1G1"], max_load=3)
    session.add(worker)
    await session.flush()
    world.worker_id = worker.id
    return world


async def truncate(engine: AsyncEngine) -> None:
    """Empty every mutable table (what conftest's clean_db does, usable from a module-scoped fixture)."""
    from tests.environment import MUTABLE_TABLES, empty_tables_sql

    async with engine.begin() as conn:
        await conn.execute(empty_tables_sql(MUTABLE_TABLES))


@functools.cache
def _password_hash() -> str:
    return hash_password(PASSWORD)


def _path(code: str | None) -> list[str]:
    if code is None:
        return []
    parent = next(p for c, p, _, _ in REGIONS if c == code)
    return [*_path(parent), code]


def region_path(code: str) -> list[str]:
    return _path(code)


async def incident(
    session: AsyncSession,
    *,
    status: str = "located",
    category: str = "road",
    grid: str = "D1S1C1G1",
    channel: str = "app",
    item_type: str = "promise",
    priority: int = 3,
    created_at: datetime | None = None,
    lonlat: tuple[float, float] | None = None,
    **extra: object,
) -> Incident:
    lon, lat = lonlat or POINTS[grid]
    values = dict(public_id=uuid.uuid4(), category_code=category, description="测试事件", priority=priority,
                  item_type=item_type, status=status, channel=channel, lon=lon, lat=lat,
                  geom=WKTElement(f"POINT({lon} {lat})", srid=4326), region_code=grid, region_path=region_path(grid))
    if created_at is not None:
        values |= {"created_at": created_at, "updated_at": created_at}
    values |= extra
    row = Incident(**values)
    session.add(row)
    await session.flush()
    await session.refresh(row)
    return row


async def order(session: AsyncSession, inc: Incident, *, status: str = "sent", department: str | None = "water_co",
                worker_id: int | None = None, role: str = "lead", **extra: object) -> Order:
    row = Order(incident_id=inc.id, assignee_kind="worker" if worker_id else "department",
                department_code=None if worker_id else department, worker_id=worker_id, role=role, status=status,
                **extra)
    session.add(row)
    await session.flush()
    await session.refresh(row)
    return row


@dataclass
class LoopApp:
    """An app client over a freshly built world (committed), with a token per user."""

    client: object
    world: World
    sessionmaker: object
    settings: object
    headers: dict[str, dict[str, str]] = field(default_factory=dict)

    async def as_(self, user: str) -> dict[str, str]:
        if user not in self.headers:
            from tests.helpers import login

            self.headers[user] = await login(self.client, user, PASSWORD)  # type: ignore[arg-type]
        return self.headers[user]


@asynccontextmanager
async def loop_app(engine: AsyncEngine, settings: Settings) -> AsyncIterator[LoopApp]:
    """The real app (lifespan included) without the WebSocket hub and relay, which these tests do not use.

    Workaround: the hub's shutdown intermittently hangs while cancelling its blocking XREAD (seen in
    web/hub.py as of this commit; reported to its owner), which would stall a test's teardown."""
    from command.core.db import make_sessionmaker
    from web.app import create_app

    sm = make_sessionmaker(engine)
    async with sm() as session, session.begin():
        world = await build(session)
    app = create_app(settings)
    for hooks in (app.state.startup_hooks, app.state.shutdown_hooks):
        hooks[:] = [h for h in hooks if not h.__module__.startswith("web.hub")]
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield LoopApp(client=client, world=world, sessionmaker=sm, settings=settings)
