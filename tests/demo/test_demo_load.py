"""The demo loader on real PostGIS: everything lands, people live in their grids, re-running is safe."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from command.admin.users import authenticate
from command.core.db import make_sessionmaker
from command.core.errors import NotAuthenticated
from command.demo.catalog import CATEGORIES
from command.demo.load import counts, load_demo
from command.demo.people import DEMO_PASSWORD
from tests.environment import MUTABLE_TABLES, empty_tables_sql


async def _load(engine: AsyncEngine, seed: int = 7) -> dict[str, int]:
    async with make_sessionmaker(engine)() as s, s.begin():
        await load_demo(s, seed=seed)
        return await counts(s)


async def _scalar(engine: AsyncEngine, sql: str) -> object:
    async with engine.connect() as conn:
        return (await conn.execute(text(sql))).scalar_one()


@pytest.fixture(scope="module")
async def loaded(engine: AsyncEngine) -> dict[str, int]:
    async with engine.begin() as conn:
        await conn.execute(empty_tables_sql(MUTABLE_TABLES))
    return await _load(engine)


async def test_everything_lands(loaded: dict[str, int]) -> None:
    assert loaded["regions"] == 1837
    assert loaded["categories"] == len(CATEGORIES) == loaded["routing_rules"]
    assert loaded["departments"] == 5 + 2 * 6  # district-wide kinds + police and urban management per street
    assert 300 <= loaded["workers"] <= 340
    assert loaded["users"] == loaded["workers"] + 3 + 6 + loaded["departments"]
    assert loaded["resource_points"] > 500


async def test_loading_twice_changes_no_counts(loaded: dict[str, int], engine: AsyncEngine) -> None:
    before = await _scalar(engine, "SELECT md5(string_agg(code || ST_AsText(geom), ',' ORDER BY code)) FROM regions")
    ids = await _scalar(engine, "SELECT md5(string_agg(username || id, ',' ORDER BY id)) FROM users")
    assert await _load(engine) == loaded
    assert await _scalar(engine, "SELECT md5(string_agg(code || ST_AsText(geom), ',' ORDER BY code)) "
                                 "FROM regions") == before
    assert await _scalar(engine, "SELECT md5(string_agg(username || id, ',' ORDER BY id)) FROM users") == ids


async def test_workers_live_in_their_grid(loaded: dict[str, int], engine: AsyncEngine) -> None:
    outside = await _scalar(engine, """
        SELECT count(*) FROM workers w JOIN regions r ON r.code = w.grid_codes[1]
        WHERE r.level <> 'grid' OR NOT ST_Within(w.home, r.geom)""")
    assert outside == 0
    kinds = await _scalar(engine, "SELECT string_agg(DISTINCT kind, ',' ORDER BY kind) FROM workers")
    assert kinds == "fulltime,leader,parttime"


async def test_every_street_has_a_police_station_and_resources_are_inside(loaded, engine: AsyncEngine) -> None:
    assert await _scalar(engine, """
        SELECT count(*) FROM regions r WHERE r.level = 'street' AND NOT EXISTS
        (SELECT 1 FROM departments d WHERE d.kind = 'police' AND d.region_code = r.code)""") == 0
    assert await _scalar(engine, """
        SELECT count(*) FROM resource_points p WHERE NOT EXISTS
        (SELECT 1 FROM regions r WHERE r.code = p.region_code AND r.level = 'microgrid' AND ST_Covers(r.geom, p.geom))
        """) == 0
    kinds = await _scalar(engine, "SELECT count(DISTINCT kind) FROM resource_points")
    assert kinds == 6


async def test_demo_logins_work_and_wrong_password_fails(loaded, engine: AsyncEngine) -> None:
    async with make_sessionmaker(engine)() as s:
        worker = await authenticate(s, username="w0001", password=DEMO_PASSWORD)
        assert worker.role == "worker" and worker.worker_id is not None
        liaison = await authenticate(s, username="l-police-1", password=DEMO_PASSWORD)
        assert liaison.department_code == "police-320102001"
        with pytest.raises(NotAuthenticated):
            await authenticate(s, username="operator", password="wrong-password")


async def test_enclave_is_stored_as_a_hole(loaded, engine: AsyncEngine) -> None:
    holes = await _scalar(engine, """
        SELECT ST_NumInteriorRings(ST_GeometryN(s.geom, 1)) FROM regions c JOIN regions s
        ON s.code = c.properties->>'enclave_in' WHERE c.properties ? 'enclave_in'""")
    assert holes == 1
