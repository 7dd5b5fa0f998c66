"""Declarative base and the async engine/session factory."""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

from command.settings import Settings
from geo.db import NAMING, GeoBase


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def make_engine(settings: Settings, **kwargs: object) -> AsyncEngine:
    # No pool_pre_ping: it costs a round trip per checkout; a connection found dead invalidates the pool
    # (SQLAlchemy's disconnect handling) and the next checkout reconnects. JIT off: our statements are
    # short indexed lookups, for which JIT compilation only adds latency. A fixed pool (no overflow): overflow
    # connections are closed as soon as they are checked in, so under load they were opened and closed
    # continuously, each paying the connect and asyncpg's type introspection; on this hardware more concurrent
    # transactions than the pool holds add no throughput, so requests beyond it wait (up to db_pool_timeout_s).
    opts: dict[str, object] = {
        "pool_size": settings.db_pool_size,
        "max_overflow": 0,
        "pool_timeout": settings.db_pool_timeout_s,
        "pool_recycle": 1800,
        "connect_args": {"server_settings": {"jit": "off"}},
    }
    opts.update(kwargs)
    return create_async_engine(settings.async_database_url, **opts)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def all_metadata() -> list[MetaData]:
    """Every model module imported, and the metadata of each layer (Alembic, tests)."""
    import command.loop_models
    import command.models  # noqa: F401
    import geo.models  # noqa: F401

    return [GeoBase.metadata, Base.metadata]
