"""Alembic environment: the URL comes from Settings (or config attribute 'url'), never from alembic.ini."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from command.core.db import all_metadata
from command.core.settings import Settings

target_metadata = all_metadata()
OUR_TABLES = {name for md in target_metadata for name in md.tables}
config = context.config


def include_object(obj, name, type_, reflected, compare_to):
    # PostGIS owns spatial_ref_sys and friends; compare only the tables our models declare.
    if type_ == "table":
        return name in OUR_TABLES
    return True


def run_migrations_online() -> None:
    url = config.attributes.get("url")
    lock_timeout_ms = config.attributes.get("lock_timeout_ms")
    if url is None or lock_timeout_ms is None:
        settings = Settings()
        url = url or settings.sync_database_url
        lock_timeout_ms = settings.migration_lock_timeout_ms if lock_timeout_ms is None else lock_timeout_ms
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        # A migration queued behind a long query for a table lock would queue every request behind itself: it gives
        # up after lock_timeout instead (docs/operations-upgrades.md). Session-level, so autocommit blocks keep it.
        connection.exec_driver_sql(f"SET lock_timeout = {int(lock_timeout_ms)}")
        connection.commit()
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            include_object=include_object,
            compare_type=True,
            # Each migration commits on its own: a lock one takes is released before the next one starts.
            transaction_per_migration=True,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
