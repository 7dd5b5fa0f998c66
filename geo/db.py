"""geo's own declarative base: geo knows nothing of command or web, so it keeps its own metadata."""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# One naming convention for every metadata in the project (command.core.db reuses it).
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class GeoBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
