"""Alembic environment: the URL comes from Settings (or config attribute 'url'), never from alembic.ini."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from command.db import all_metadata
from command.settings import Settings

target_metadata = all_metadata()
OUR_TABLES = {name for md in target_metadata for name in md.tables}
config = context.config


def include_object(obj, name, type_, reflected, compare_to):
    # PostGIS owns spatial_ref_sys and friends; compare only the tables our models declare.
    if type_ == "table":
        return name in OUR_TABLES
    return True


def run_migrations_online() -> None:
    url = config.attributes.get("url") or Settings().sync_database_url
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            include_object=include_object,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
