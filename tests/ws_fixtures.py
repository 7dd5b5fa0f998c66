"""A small city for the event-stream and WebSocket tests, and helpers that append and publish events.

District D1 has streets SX and SY; SX has community CX1. Users: admin, an operator of each street, a district
operator, two grid workers, a liaison of the power company in SX (dept `power-sx`) and one of the water company
in SY (`water-sy`). Tokens are issued directly (no login round trip)."""

from __future__ import annotations

from dataclasses import dataclass, field

from geoalchemy2 import WKTElement
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from command.core.db import make_sessionmaker
from command.core.events import Actor, append_event
from command.core.models import Category, Department, Event, Incident, Order, RoutingRule, User, Worker
from command.core.security import Principal, issue_token
from command.core.settings import Settings
from command.realtime.publish import commit_and_publish
from geo.models import Region
from tests.environment import MUTABLE_TABLES, empty_tables_sql


def _square(lon: float, lat: float, size: float) -> WKTElement:
    x2, y2 = lon + size, lat + size
    wkt = f"MULTIPOLYGON((({lon} {lat},{x2} {lat},{x2} {y2},{lon} {y2},{lon} {lat})))"
    return WKTElement(wkt, srid=4326)


# code → (parent, level, lon, lat, size)
REGIONS = {
    "D1": (None, "district", 118.70, 32.00, 0.20),
    "SX": ("D1", "street", 118.70, 32.00, 0.10),
    "SY": ("D1", "street", 118.80, 32.00, 0.10),
    "CX1": ("SX", "community", 118.70, 32.00, 0.05),
}
CENTRES = {"SX": (118.72, 32.02), "SY": (118.82, 32.02), "CX1": (118.71, 32.01)}


@dataclass
class City:
    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    paths: dict[str, list[str]] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    worker_ids: dict[str, int] = field(default_factory=dict)


async def seed_city(engine: AsyncEngine, settings: Settings) -> City:
    async with engine.begin() as conn:
        await conn.execute(empty_tables_sql(MUTABLE_TABLES))
    sm = make_sessionmaker(engine)
    city = City(settings=settings, sessionmaker=sm)
    async with sm() as s, s.begin():
        ids: dict[str, int] = {}
        for code, (parent, level, lon, lat, size) in REGIONS.items():
            path = [*city.paths[parent], code] if parent else [code]
            region = Region(code=code, name=code, level=level, depth=len(path) - 1, path=path,
                            parent_id=ids.get(parent) if parent else None, geom=_square(lon, lat, size))
            s.add(region)
            await s.flush()
            ids[code] = region.id
            city.paths[code] = path
        s.add(Category(code="fire", name_zh="火警", name_en="Fire", group="emergency", default_priority=1))
        await s.flush()
        s.add(RoutingRule(category_code="fire", workers_needed=1, department_kinds=["power"], radius_m=3000,
                          own_grid_first=False))
        s.add_all([Department(code="power-sx", name="供电 SX", kind="power", region_code="SX"),
                   Department(code="water-sy", name="供水 SY", kind="water", region_code="SY")])
        people = [("admin", "admin", None, None), ("op_x", "operator", "SX", None), ("op_y", "operator", "SY", None),
                  ("op_d", "supervisor", "D1", None), ("worker1", "worker", "SX", None),
                  ("worker2", "worker", "SX", None), ("liaison_power", "liaison", "SX", "power-sx"),
                  ("liaison_water", "liaison", "SY", "water-sy")]
        for name, role, region, dept in people:
            user = User(username=name, display_name=name, role=role, region_code=region, department_code=dept,
                        password_hash="!")
            s.add(user)
            await s.flush()
            worker_id = None
            if role == "worker":
                worker = Worker(user_id=user.id, name=name, grid_codes=["CX1"])
                s.add(worker)
                await s.flush()
                worker_id = city.worker_ids[name] = worker.id
            city.tokens[name] = issue_token(settings, Principal(
                user_id=user.id, username=name, role=role, region_code=region, department_code=dept,
                worker_id=worker_id))
    return city


async def new_incident(city: City, redis: Redis, region: str, *, description: str = "火情") -> Incident:
    """An incident in `region`, with its incident.created event committed and published."""
    lon, lat = CENTRES[region]
    async with city.sessionmaker() as s:
        incident = Incident(category_code="fire", description=description, priority=1, status="located",
                            channel="sensor", lon=lon, lat=lat, geom=WKTElement(f"POINT({lon} {lat})", srid=4326),
                            region_code=region, region_path=city.paths[region])
        s.add(incident)
        await s.flush()
        await append_event(s, kind="incident.created", actor=Actor.system("test"), incident=incident,
                           to_state="located", payload={"incident": {"id": incident.id, "description": description}})
        await commit_and_publish(s, redis, maxlen=city.settings.event_stream_maxlen)
    return incident


async def emit(city: City, redis: Redis | None, incident: Incident, *, kind: str = "incident.status",
               worker: str | None = None, department: str | None = None, payload: dict | None = None,
               publish: bool = True) -> Event:
    """Append one event about `incident` (an order event when worker/department is given) and commit it;
    published unless `publish` is False (a publisher that died after its commit)."""
    async with city.sessionmaker() as s:
        order = None
        if worker or department:
            order = Order(incident_id=incident.id, assignee_kind="worker" if worker else "department",
                          worker_id=city.worker_ids.get(worker) if worker else None,
                          department_code=department, status="sent")
            s.add(order)
            await s.flush()
        event = await append_event(s, kind=kind, actor=Actor.system("test"), incident=incident, order=order,
                                   payload=payload or {})
        if publish:
            assert redis is not None
            await commit_and_publish(s, redis, maxlen=city.settings.event_stream_maxlen)
        else:
            await s.commit()
    return event


async def emit_many(city: City, redis: Redis, incident: Incident, payloads: list[dict]) -> list[Event]:
    """One transaction appending an incident.status event per payload, then one publish (a burst)."""
    async with city.sessionmaker() as s:
        out = [await append_event(s, kind="incident.status", actor=Actor.system("test"), incident=incident,
                                  payload=p) for p in payloads]
        await commit_and_publish(s, redis, maxlen=city.settings.event_stream_maxlen)
    return out
