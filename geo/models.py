"""Region tree (district → street → community → grid → micro-grid) and resource points."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    ARRAY,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from geo.db import GeoBase


class Level(enum.StrEnum):
    district = "district"
    street = "street"
    community = "community"
    grid = "grid"
    microgrid = "microgrid"

    @property
    def depth(self) -> int:
        return LEVEL_DEPTH[self]


LEVEL_DEPTH: dict[Level, int] = {lvl: i for i, lvl in enumerate(Level)}
DEEPEST = max(LEVEL_DEPTH.values())  # the micro-grid level; geo/locate.py searches it first (ix_regions_geom_deepest)


class Region(GeoBase):
    __tablename__ = "regions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(16))
    depth: Mapped[int] = mapped_column(SmallInteger)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id", ondelete="RESTRICT"), index=True)
    # Codes from the top down to this region itself: the scope key every incident carries.
    path: Mapped[list[str]] = mapped_column(ARRAY(String(64)))
    # The names and levels along `path`, in the same order (the import keeps them; geo/imports.py), so locate()
    # answers the whole chain from the one row it finds. Empty for a row written by anything but the import:
    # locate() then reads the chain by join instead.
    path_names: Mapped[list[str]] = mapped_column(ARRAY(String(200)), server_default="{}")
    path_levels: Mapped[list[str]] = mapped_column(ARRAY(String(16)), server_default="{}")
    geom: Mapped[object] = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=False))
    properties: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        CheckConstraint("level IN ('district','street','community','grid','microgrid')", name="level"),
        Index("ix_regions_geom", "geom", postgresql_using="gist"),
        # The few upper levels on their own, for low-zoom tiles (geo/tiles.py UPPER_DEPTH).
        Index("ix_regions_geom_upper", "geom", postgresql_using="gist", postgresql_where=text("depth <= 2")),
        Index("ix_regions_path", "path", postgresql_using="gin"),
        # The deepest level on its own: locate() asks it first, and a hit there is final (nothing is deeper).
        Index("ix_regions_geom_deepest", "geom", postgresql_using="gist",
              postgresql_where=text(f"depth >= {DEEPEST}")),
    )


class ResourceKind(enum.StrEnum):
    hydrant = "hydrant"
    shelter = "shelter"
    aed = "aed"
    hospital = "hospital"
    police_station = "police_station"
    camera = "camera"


class ResourcePoint(GeoBase):
    """Emergency resources on the map (应急资源一张图)."""

    __tablename__ = "resource_points"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str | None] = mapped_column(String(64), index=True)
    geom: Mapped[object] = mapped_column(Geometry("POINT", srid=4326, spatial_index=False))
    properties: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")

    __table_args__ = (
        CheckConstraint(
            "kind IN ('hydrant','shelter','aed','hospital','police_station','camera')", name="kind"
        ),
        Index("ix_resource_points_geom", "geom", postgresql_using="gist"),
    )
