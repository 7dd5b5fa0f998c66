"""The models and the migrations agree: autogenerate finds no difference."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

from command.db import Base, import_all_models
from command.settings import Settings


def test_models_match_migrations(migrated: Settings) -> None:
    import_all_models()
    engine = create_engine(migrated.sync_database_url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(
                conn,
                opts={
                    "compare_type": True,
                    "include_object": lambda obj, name, type_, *_: type_ != "table"
                    or name in Base.metadata.tables,
                },
            )
            diff = compare_metadata(ctx, Base.metadata)
            assert conn.execute(text("SELECT extname FROM pg_extension WHERE extname='postgis'")).scalar()
    finally:
        engine.dispose()
    assert diff == [], f"models and migrations differ: {diff}"
