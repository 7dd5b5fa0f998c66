"""The models and the migrations agree: autogenerate finds no difference."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

from command.core.db import all_metadata
from command.core.settings import Settings


def test_models_match_migrations(migrated: Settings) -> None:
    metadata = all_metadata()
    ours = {name for md in metadata for name in md.tables}
    engine = create_engine(migrated.sync_database_url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(
                conn,
                opts={
                    "compare_type": True,
                    "include_object": lambda obj, name, type_, *_: type_ != "table"
                    or name in ours,
                },
            )
            diff = compare_metadata(ctx, metadata)
            assert conn.execute(text("SELECT extname FROM pg_extension WHERE extname='postgis'")).scalar()
    finally:
        engine.dispose()
    assert diff == [], f"models and migrations differ: {diff}"
