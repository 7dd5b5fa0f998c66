"""Run Alembic from code, so the installed `gridcmd migrate` needs no alembic.ini on disk."""

from __future__ import annotations

from pathlib import Path

from alembic import command as alembic_command
from alembic.config import Config

from command.core.settings import Settings

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(settings: Settings) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["url"] = settings.sync_database_url
    cfg.attributes["lock_timeout_ms"] = settings.migration_lock_timeout_ms
    return cfg


def upgrade(settings: Settings, revision: str = "head") -> None:
    alembic_command.upgrade(alembic_config(settings), revision)
