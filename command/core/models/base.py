"""The declarative base of command/'s tables (geo/'s have their own, geo.db.GeoBase, with the same naming)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, MetaData, Table, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from geo.db import NAMING


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def table_of(model: type[DeclarativeBase]) -> Table:
    """A mapped class's Table (SQLAlchemy types `__table__` as any FromClause: a class may map a join)."""
    table = model.__table__
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped to one table")
    return table


def created_now() -> Mapped[datetime]:
    """A timestamp column PostgreSQL fills at insert (created_at, updated_at)."""
    return mapped_column(DateTime(timezone=True), server_default=func.now())
