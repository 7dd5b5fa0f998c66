"""Load the demo city into the database, idempotently: regions through geo's importer, then departments,
categories, default routing rules, accounts, grid workers and resource points, each upserted by its code,
username or demo key. The caller owns the transaction (nothing here commits)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from geoalchemy2 import WKTElement
from sqlalchemy import delete, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from command.core.models import Category, Department, RoutingRule, User, Worker
from command.core.security import hash_password
from command.demo import catalog, people, resources
from command.demo.city import generate_city
from command.demo.index import CityIndex
from command.demo.service_items import upsert_catalogue
from geo.imports import import_regions
from geo.models import ResourcePoint

DEMO_KEY = "demo_key"  # resource points have no code of their own: the demo marks its rows with this property


@dataclass(slots=True)
class DemoReport:
    seed: int
    regions: int
    departments: int
    categories: int
    routing_rules: int
    accounts: int
    workers: int
    resource_points: int
    seconds: float = 0.0


def _point(lon: float, lat: float) -> WKTElement:
    return WKTElement(f"POINT({lon} {lat})", srid=4326)


async def load_demo(session: AsyncSession, *, seed: int = 7, progress: bool = False) -> DemoReport:
    """Generate the city for `seed` and upsert everything; re-running changes nothing but timestamps."""
    started = time.perf_counter()
    collection = generate_city(seed)
    city = CityIndex(collection)
    regions = await import_regions(session, collection=collection, progress=progress)

    streets = sorted(city.level("street"), key=lambda s: s.code)
    deps = catalog.departments((city.district.code, city.district.name), [(s.code, s.name) for s in streets])
    await _upsert_departments(session, deps)
    await _upsert_categories(session)
    rules = await _upsert_default_rules(session)

    crew = people.workers(city, seed)
    accounts = people.accounts(city, deps, seed) + [
        people.AccountSpec(w.username, w.name, "worker", w.grid_code, phone=w.phone) for w in crew
    ]
    user_ids = await _upsert_accounts(session, accounts)
    await _upsert_workers(session, crew, user_ids)
    points = resources.resources(city, seed)
    await _upsert_resources(session, city, points)
    await upsert_catalogue(session)
    return DemoReport(seed, regions.total, len(deps), len(catalog.CATEGORIES), rules, len(accounts), len(crew),
                      len(points), time.perf_counter() - started)


async def _upsert_departments(session: AsyncSession, deps: list[catalog.DepartmentSpec]) -> None:
    stmt = insert(Department).values([
        {"code": d.code, "name": d.name, "kind": d.kind, "region_code": d.region_code, "phone": d.phone} for d in deps
    ])
    await session.execute(stmt.on_conflict_do_update(
        index_elements=[Department.code],
        set_={c: stmt.excluded[c] for c in ("name", "kind", "region_code", "phone")},
    ))


async def _upsert_categories(session: AsyncSession) -> None:
    stmt = insert(Category).values([
        {"code": c.code, "name_zh": c.name_zh, "name_en": c.name_en, "group": c.group,
         "default_priority": c.default_priority, "item_type": c.item_type, "active": True}
        for c in catalog.CATEGORIES
    ])
    await session.execute(stmt.on_conflict_do_update(
        index_elements=[Category.code],
        set_={c: stmt.excluded[c] for c in ("name_zh", "name_en", "group", "default_priority", "item_type", "active")},
    ))


async def _upsert_default_rules(session: AsyncSession) -> int:
    """The district-wide default rule of each category (region_code NULL). A NULL never conflicts in a
    unique index, so these are matched by category in code rather than with ON CONFLICT."""
    existing = dict((await session.execute(
        select(RoutingRule.category_code, RoutingRule.id).where(RoutingRule.region_code.is_(None))
    )).all())
    for c in catalog.CATEGORIES:
        values = {"workers_needed": c.workers_needed, "department_kinds": list(c.department_kinds),
                  "radius_m": c.radius_m, "own_grid_first": c.own_grid_first, "ack_timeout_s": c.ack_timeout_s,
                  "max_attempts": c.max_attempts}
        if c.code in existing:
            await session.execute(update(RoutingRule).where(RoutingRule.id == existing[c.code]).values(**values))
        else:
            session.add(RoutingRule(category_code=c.code, region_code=None, **values))
    await session.flush()
    return len(catalog.CATEGORIES)


async def _upsert_accounts(session: AsyncSession, accounts: list[people.AccountSpec]) -> dict[str, int]:
    """Every demo account gets the documented password. One argon2 hash serves them all: hashing ~350
    passwords one by one would take most of a minute, and these are public demo credentials anyway."""
    password_hash = hash_password(people.DEMO_PASSWORD)
    stmt = insert(User).values([
        {"username": a.username, "display_name": a.display_name, "role": a.role, "region_code": a.region_code,
         "department_code": a.department_code, "phone": a.phone, "password_hash": password_hash, "active": True}
        for a in accounts
    ])
    rows = await session.execute(stmt.on_conflict_do_update(
        index_elements=[User.username],
        set_={c: stmt.excluded[c] for c in ("display_name", "role", "region_code", "department_code", "phone",
                                            "password_hash", "active")},
    ).returning(User.username, User.id))
    return {name: uid for name, uid in rows.all()}


async def _upsert_workers(session: AsyncSession, crew: list[people.WorkerSpec], user_ids: dict[str, int]) -> None:
    stmt = insert(Worker).values([
        {"user_id": user_ids[w.username], "name": w.name, "phone": w.phone, "kind": w.kind,
         "grid_codes": [w.grid_code], "skills": w.skills, "max_load": w.max_load, "home": _point(*w.home),
         "on_duty": True, "shift_start": None, "shift_end": None}
        for w in crew
    ])
    await session.execute(stmt.on_conflict_do_update(
        index_elements=[Worker.user_id],
        set_={c: stmt.excluded[c] for c in ("name", "phone", "kind", "grid_codes", "skills", "max_load", "home",
                                            "on_duty", "shift_start", "shift_end")},
    ))


async def _upsert_resources(session: AsyncSession, city: CityIndex, points: list[resources.ResourceSpec]) -> None:
    key = ResourcePoint.properties[DEMO_KEY].astext
    existing = {k: rid for k, rid in (await session.execute(select(key, ResourcePoint.id).where(key.is_not(None))))}
    wanted = {p.key for p in points}
    stale = [rid for k, rid in existing.items() if k not in wanted]
    if stale:
        await session.execute(delete(ResourcePoint).where(ResourcePoint.id.in_(stale)))
    rows: list[dict[str, Any]] = []
    for p in points:
        micro = city.microgrid_at(p.lon, p.lat)
        rows.append({"kind": p.kind, "name": p.name, "region_code": micro.code if micro else None,
                     "geom": _point(p.lon, p.lat), "properties": {**p.properties, DEMO_KEY: p.key}})
    fresh = [r for r in rows if r["properties"][DEMO_KEY] not in existing]
    if fresh:
        await session.execute(insert(ResourcePoint).values(fresh))
    known = [{"id": existing[r["properties"][DEMO_KEY]], **r} for r in rows if r["properties"][DEMO_KEY] in existing]
    if known:  # ORM bulk UPDATE by primary key: one executemany
        await session.execute(update(ResourcePoint), known)


async def counts(session: AsyncSession) -> dict[str, int]:
    """Row counts of every table the demo writes (for the idempotency check and the summary)."""
    out = {}
    for table in ("regions", "departments", "categories", "routing_rules", "users", "workers", "resource_points",
                  "service_items"):
        out[table] = int(await session.scalar(text(f"SELECT count(*) FROM {table}")))
    return out
