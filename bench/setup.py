"""Preparing the benchmark's own database and Redis: schema, the cached province (loaded once per scale and seed),
the reference data an alert needs, accounts for the driver, and the workers' live state."""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from pathlib import Path

import psycopg
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench import loader
from bench.province import read_meta
from command.core.security import Principal, issue_token, verify_password
from command.core.settings import Settings
from command.ops.migrate import upgrade

CATEGORY = "bench_alarm"  # one worker, no department, nearest first: the path every alarm takes
MARKER_KEY = "gridcmd:bench:loaded"  # what the database holds, so a rerun skips the load


def bench_database_url(url: str) -> str:
    """Never the demo's database: the bench writes and truncates, so it works in `<name>_bench`."""
    p = urllib.parse.urlsplit(url)
    name = (p.path or "/gridcmd").lstrip("/") or "gridcmd"
    if not name.endswith("bench"):
        name = f"{name}_bench"
    return urllib.parse.urlunsplit(p._replace(path=f"/{name}"))


def ensure_database(url: str) -> None:
    p = urllib.parse.urlsplit(url.replace("+asyncpg", "").replace("+psycopg", ""))
    name = (p.path or "/").lstrip("/")
    admin = urllib.parse.urlunsplit(p._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


async def _loaded_marker(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        row = (await conn.execute(text(
            "SELECT obj_description('regions'::regclass, 'pg_class')"))).scalar_one_or_none()
    return row


async def load_data(settings: Settings, engine: AsyncEngine, d: Path, *, force: bool,
                    log: Callable[[str], None] = print) -> dict:
    """Schema at head, then the province and its workers unless the database already holds exactly them."""
    upgrade(settings)
    meta = read_meta(d)
    marker = f"{d.name}:{sum(meta['counts'].values())}:{meta['workers']}"
    if not force and await _loaded_marker(engine) == marker:
        log(f"database already holds {d.name}; skipping the load")
        return {"skipped": True}
    async with engine.begin() as conn:
        tables = (await conn.execute(text(
            "SELECT string_agg(quote_ident(tablename), ', ') FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'alembic_version' AND tablename <> 'spatial_ref_sys'"))).scalar_one()
        await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    log("importing regions through geo.imports.import_regions ...")
    regions = await loader.import_province(engine, d, log)
    workers = loader.copy_workers(settings.sync_database_url, d, log)
    async with engine.begin() as conn:
        await conn.execute(text(f"COMMENT ON TABLE regions IS '{marker}'"))
    return {"skipped": False, "regions": regions, "workers": workers}


REFERENCE = ("regions", "workers", "users", "categories", "routing_rules", "departments", "resource_points",
             "alembic_version", "spatial_ref_sys")


async def reset_operations(engine: AsyncEngine, *, max_load: int) -> None:
    """Every run starts with no incidents, orders or events (the live state is rebuilt empty too), and every
    worker at the generated max load: what PostgreSQL says and what Redis holds must agree for the checks."""
    async with engine.begin() as conn:
        tables = (await conn.execute(text(
            "SELECT string_agg(quote_ident(tablename), ', ') FROM pg_tables WHERE schemaname = 'public' "
            "AND NOT tablename = ANY(:keep)"), {"keep": list(REFERENCE)})).scalar_one()
        if tables:
            await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        await conn.execute(text("UPDATE workers SET max_load = :m WHERE max_load <> :m"), {"m": max_load})
        left = (await conn.execute(text("SELECT count(*) FROM workers"))).scalar_one()
    if not left:  # a foreign key added to a kept table would make TRUNCATE … CASCADE take it too
        raise RuntimeError("resetting the operational tables emptied the workers; rerun with --reload")


async def reference_data(engine: AsyncEngine) -> None:
    """The bench's alarm category and its routing rule (idempotent)."""
    async with engine.begin() as conn:
        await conn.execute(text(
            "INSERT INTO categories (code, name_zh, name_en, \"group\", default_priority, item_type, active) "
            "VALUES (:c, '压测告警', 'Benchmark alarm', 'emergency', 1, 'immediate', true) "
            "ON CONFLICT (code) DO NOTHING"), {"c": CATEGORY})
        await conn.execute(text(
            "INSERT INTO routing_rules (category_code, region_code, workers_needed, department_kinds, radius_m, "
            "own_grid_first, ack_timeout_s, max_attempts) VALUES (:c, NULL, 1, '{}', 3000, false, 3600, 3) "
            "ON CONFLICT DO NOTHING"), {"c": CATEGORY})


async def account(engine: AsyncEngine, settings: Settings, *, username: str, role: str,
                  region_code: str | None = None) -> str:
    """A user row for the driver (no usable password: tokens are minted) and its bearer token."""
    async with engine.begin() as conn:
        uid, version = (await conn.execute(text(
            "INSERT INTO users (username, display_name, role, region_code, password_hash) "
            "VALUES (:u, :u, :r, :reg, :h) ON CONFLICT (username) DO UPDATE SET role = EXCLUDED.role, "
            "region_code = EXCLUDED.region_code RETURNING id, token_version"),
            {"u": username, "r": role, "reg": region_code, "h": loader.UNUSABLE_HASH})).one()
    assert not verify_password("", loader.UNUSABLE_HASH)
    # The token carries the account's current version (a role change by an earlier run bumped it).
    return issue_token(settings, Principal(user_id=uid, username=username, role=role, region_code=region_code,
                                           version=version))


def backend_lister(url: str):
    """A function returning the pids of the PostgreSQL backends connected to the bench database (the bench runs
    on the same machine, so /proc has them)."""
    p = urllib.parse.urlsplit(url.replace("+asyncpg", "").replace("+psycopg", ""))
    name = (p.path or "/").lstrip("/")
    admin = urllib.parse.urlunsplit(p._replace(path="/postgres"))

    def pids() -> list[int]:
        with psycopg.connect(admin, autocommit=True) as conn:
            return [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (name,))]

    return pids


async def worker_tokens(engine: AsyncEngine, settings: Settings, worker_ids: list[int]) -> dict[int, str]:
    """A token per worker, minted from its account as PostgreSQL has it (the claims a login would give: every
    request and socket is held against the account, docs/security.md)."""
    async with engine.connect() as conn:
        rows = (await conn.execute(text(
            "SELECT w.id, u.id, u.username, u.role, u.region_code, u.department_code, u.token_version "
            "FROM workers w JOIN users u ON u.id = w.user_id WHERE w.id = ANY(:ids)"), {"ids": worker_ids})).all()
    return {wid: issue_token(settings, Principal(user_id=uid, username=name, role=role, region_code=region,
                                                 department_code=dept, worker_id=wid, version=version))
            for wid, uid, name, role, region, dept, version in rows}


async def flush_redis(redis: Redis) -> None:
    """The bench's Redis database is its own: start every run from nothing."""
    await redis.flushdb()
