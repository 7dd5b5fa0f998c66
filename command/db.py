"""Declarative base and the async engine/session factory."""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

from command.settings import Settings

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def make_engine(settings: Settings, **kwargs: object) -> AsyncEngine:
    opts: dict[str, object] = {"pool_size": settings.db_pool_size, "max_overflow": settings.db_pool_size,
                               "pool_pre_ping": True}
    opts.update(kwargs)
    return create_async_engine(settings.async_database_url, **opts)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def import_all_models() -> None:
    """Import every model module so Base.metadata is complete (Alembic, tests)."""
    import command.models  # noqa: F401
    import geo.models  # noqa: F401
