"""Fixtures every folder uses: a migrated test database on real PostgreSQL/PostGIS and a real Redis (which ones:
tests/environment.py). Each folder's conftest.py holds the fixtures of its own tests; helpers shared across folders
are modules of tests/ (procs, helpers, browser_kit, dispatch_world…)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from command.core import refdata
from command.core.db import make_engine, make_sessionmaker
from command.core.settings import Settings
from command.ops.migrate import upgrade
from tests.environment import MUTABLE_TABLES, empty_tables_sql, make_test_settings, recreate_database, redis_client

# The longest files first (`--durations` of a full run) under `make test TEST_WORKERS=2`: two pytest-xdist
# workers take whole files in this order (--no-loadscope-reorder: xdist would otherwise put the files with the most
# tests first), so the long ones start early and the workers finish together. Files not named keep their order.
LONGEST_FIRST = (
    "tests/web/test_schemathesis_admin.py",
    "tests/web/test_schemathesis_operator.py",
    "tests/browser/test_wall_browser.py",
    "tests/browser/test_supervise_browser.py",
    "tests/browser/test_reports_browser.py",
    "tests/bench/test_bench_small.py",
    "tests/browser/test_console_actions_browser.py",
    "tests/deadlines/test_loop_deadlines.py",
    "tests/ops/test_rolling_restart.py",
    "tests/assign/test_dispatch_multiprocess.py",
    "tests/admin/test_login_throttle.py",
    "tests/browser/test_browser_auth.py",
    "tests/browser/test_gps_devices_browser.py",
    "tests/browser/test_cap_wall_browser.py",
    "tests/ops/test_metrics_prometheus.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if not os.environ.get("PYTEST_XDIST_WORKER"):  # one process: the usual order
        return
    rank = {path: i for i, path in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))


@pytest.fixture(scope="session")
def settings() -> Settings:
    return make_test_settings()


@pytest.fixture(scope="session")
def migrated(settings: Settings) -> Settings:
    """A fresh database at the Alembic head, once per test session."""
    recreate_database()
    upgrade(settings)
    return settings


@pytest.fixture(scope="session")
async def engine(migrated: Settings) -> AsyncIterator[AsyncEngine]:
    eng = make_engine(migrated)
    yield eng
    await eng.dispose()


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session inside a transaction that is rolled back at the end: the test leaves no trace."""
    async with engine.connect() as conn:
        trans = await conn.begin()
        sm = make_sessionmaker(engine)
        async with sm(bind=conn, join_transaction_mode="create_savepoint") as s:
            yield s
        await trans.rollback()


@pytest.fixture
async def clean_db(engine: AsyncEngine) -> AsyncEngine:
    """Empty every mutable table (for tests that commit, e.g. through the HTTP app)."""
    async with engine.begin() as conn:
        await conn.execute(empty_tables_sql(MUTABLE_TABLES))
    # A TRUNCATE on a bare connection bypasses the sessions' hooks that empty this process's reference cache
    # (command.core.refdata, 5 s): without this, an earlier test's categories would still be "there" for a while.
    refdata.clear()
    return engine


@pytest.fixture
async def redis(settings: Settings) -> AsyncIterator[Redis]:
    client = redis_client(settings.redis_url)
    await client.flushdb()  # on a cluster: every master's
    yield client
    await client.aclose()
