"""People: user accounts and grid workers (the durable records; live state is in Redis)."""

from __future__ import annotations

from datetime import datetime, time

from geoalchemy2 import Geometry
from sqlalchemy import (
    ARRAY,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Time,
)
from sqlalchemy.orm import Mapped, mapped_column

from command.core.models.base import Base, created_now

ROLES = ("admin", "supervisor", "operator", "worker", "liaison")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(16))
    region_code: Mapped[str | None] = mapped_column(String(64))
    department_code: Mapped[str | None] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    # Tokens carry the version they were issued under; a password, role, scope or active change bumps it (a
    # trigger of migration 0007 does, whoever makes the change), so do "end all sessions" (command.admin.accounts).
    token_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # 信访 duty (migration 0018): "staff" of the petition office see petitioners; a "leader" can be assigned a
    # petition (领导包案) and sees their own. A flag beside the role, so a leader stays a supervisor.
    petition_role: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = created_now()

    __table_args__ = (
        CheckConstraint("role IN ('admin','supervisor','operator','worker','liaison')", name="role"),
        CheckConstraint("petition_role IN ('staff','leader')", name="petition_role"),
    )


class Worker(Base):
    """A grid worker (网格员): the durable record. Live state (position, presence, load) is in Redis."""

    __tablename__ = "workers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(32))
    # leader 网格长 | fulltime 专职网格员 | parttime 兼职网格员 | micro 微网格员
    kind: Mapped[str] = mapped_column(String(16), default="fulltime")
    grid_codes: Mapped[list[str]] = mapped_column(ARRAY(String(64)), default=list)
    skills: Mapped[list[str]] = mapped_column(ARRAY(String(32)), default=list)
    shift_start: Mapped[time | None] = mapped_column(Time)
    shift_end: Mapped[time | None] = mapped_column(Time)
    max_load: Mapped[int] = mapped_column(SmallInteger, default=2)
    home: Mapped[object | None] = mapped_column(Geometry("POINT", srid=4326, spatial_index=False))
    on_duty: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")

    __table_args__ = (Index("ix_workers_grid_codes", "grid_codes", postgresql_using="gin"),)
