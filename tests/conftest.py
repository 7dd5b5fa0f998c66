"""Shared fixtures: a migrated test database on real PostgreSQL/PostGIS and a real Redis.

Environment: GRIDCMD_TEST_DB (database name, default gridcmd_test), GRIDCMD_TEST_REDIS_DB
(Redis db number, default 15). Parallel developers each pick their own."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import psycopg
import pytest
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from command import refdata
from command.db import make_engine, make_sessionmaker
from command.migrate import upgrade
from command.settings import Settings

TEST_DB = os.environ.get("GRIDCMD_TEST_DB", "gridcmd_test")
TEST_REDIS_DB = int(os.environ.get("GRIDCMD_TEST_REDIS_DB", "15"))
BASE_PG = os.environ.get("GRIDCMD_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
BASE_REDIS = os.environ.get("GRIDCMD_TEST_REDIS", "redis://127.0.0.1:6379")

# Tables whose rows tests create; reference data (regions…) is kept between tests unless reset.
MUTABLE_TABLES = ("events", "orders", "incidents", "workers", "users", "routing_rules",
                  "departments", "categories", "resource_points", "regions",
                  # closed loop (migration 0002)
                  "deadline_rules", "deadlines", "extension_requests", "incident_links", "callbacks", "uploads",
                  "patrol_tasks", "patrol_visits", "patrol_findings", "hotline_categories", "hotline_outbox",
                  # Idempotency-Keys of actions (migration 0004)
                  "request_keys")


def make_test_settings(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": f"{BASE_PG}/{TEST_DB}",
        "redis_url": f"{BASE_REDIS}/{TEST_REDIS_DB}",
        "secret_key": "test-secret-key-for-gridcmd-tests-0123456789",
    }
    values.update(overrides)
    return Settings(**values)


def _recreate_database() -> None:
    with psycopg.connect(f"{BASE_PG}/postgres", autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (TEST_DB,),
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{TEST_DB}"')
        conn.execute(f'CREATE DATABASE "{TEST_DB}"')


@pytest.fixture(scope="session")
def settings() -> Settings:
    return make_test_settings()


@pytest.fixture(scope="session")
def migrated(settings: Settings) -> Settings:
    """A fresh database at the Alembic head, once per test session."""
    _recreate_database()
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
        await conn.execute(text(f"TRUNCATE {', '.join(MUTABLE_TABLES)} RESTART IDENTITY CASCADE"))
    # A TRUNCATE on a bare connection bypasses the sessions' hooks that empty this process's reference cache
    # (command.refdata, 5 s): without this, an earlier test's categories would still be "there" for a while.
    refdata.clear()
    return engine


@pytest.fixture
async def redis(settings: Settings) -> AsyncIterator[Redis]:
    client = Redis.from_url(settings.redis_url, decode_responses=True)
    await client.flushdb()
    yield client
    await client.aclose()
