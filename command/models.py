"""The command-centre records: departments, categories, routing rules, users, workers,
incidents, orders and the append-only event log."""

from __future__ import annotations

import uuid
from datetime import datetime, time

from geoalchemy2 import Geometry
from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    Time,
    UniqueConstraint,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from command.db import Base

ROLES = ("admin", "supervisor", "operator", "worker", "liaison")


def _now() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now())


class Department(Base):
    """A responsible unit (power, water, telecom, police station…) serving a region node."""

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32), index=True)
    region_code: Mapped[str] = mapped_column(String(64), index=True)
    phone: Mapped[str | None] = mapped_column(String(32))


class Category(Base):
    """What an incident is about: the 14 grid service categories and the emergency alarms."""

    __tablename__ = "categories"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    group: Mapped[str] = mapped_column(String(16))  # service | emergency
    default_priority: Mapped[int] = mapped_column(SmallInteger, default=3)
    item_type: Mapped[str] = mapped_column(String(16), default="promise")  # immediate|promise|joint|answer
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")


class RoutingRule(Base):
    """Who goes, per category, overridable per region (the deepest matching region wins)."""

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    category_code: Mapped[str] = mapped_column(ForeignKey("categories.code"))
    region_code: Mapped[str | None] = mapped_column(String(64))
    workers_needed: Mapped[int] = mapped_column(SmallInteger, default=1)
    department_kinds: Mapped[list[str]] = mapped_column(ARRAY(String(32)), default=list)
    radius_m: Mapped[float] = mapped_column(Float, default=3000.0)
    own_grid_first: Mapped[bool] = mapped_column(Boolean, default=True)
    ack_timeout_s: Mapped[int] = mapped_column(Integer, default=60)
    max_attempts: Mapped[int] = mapped_column(SmallInteger, default=3)

    __table_args__ = (UniqueConstraint("category_code", "region_code"),)


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
    created_at: Mapped[datetime] = _now()

    __table_args__ = (
        CheckConstraint("role IN ('admin','supervisor','operator','worker','liaison')", name="role"),
    )


class Worker(Base):
    """A grid worker (网格员): the durable record. Live state (position, presence, load) is in Redis."""

    __tablename__ = "workers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16), default="fulltime")  # fulltime | leader | parttime
    grid_codes: Mapped[list[str]] = mapped_column(ARRAY(String(64)), default=list)
    skills: Mapped[list[str]] = mapped_column(ARRAY(String(32)), default=list)
    shift_start: Mapped[time | None] = mapped_column(Time)
    shift_end: Mapped[time | None] = mapped_column(Time)
    max_load: Mapped[int] = mapped_column(SmallInteger, default=2)
    home: Mapped[object | None] = mapped_column(Geometry("POINT", srid=4326, spatial_index=False))
    on_duty: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")

    __table_args__ = (Index("ix_workers_grid_codes", "grid_codes", postgresql_using="gin"),)


class Incident(Base):
    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    public_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True, default=uuid.uuid4)
    category_code: Mapped[str] = mapped_column(ForeignKey("categories.code"), index=True)
    description: Mapped[str] = mapped_column(Text)
    priority: Mapped[int] = mapped_column(SmallInteger, default=3)  # 1 = most urgent
    item_type: Mapped[str] = mapped_column(String(16), default="promise")
    status: Mapped[str] = mapped_column(String(24), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    geom: Mapped[object] = mapped_column(Geometry("POINT", srid=4326, spatial_index=False))
    region_code: Mapped[str | None] = mapped_column(String(64))
    region_path: Mapped[list[str]] = mapped_column(ARRAY(String(64)), default=list)
    reporter_name: Mapped[str | None] = mapped_column(String(100))
    reporter_phone: Mapped[str | None] = mapped_column(String(32))
    external_id: Mapped[str | None] = mapped_column(String(128))
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    attention_reason: Mapped[str | None] = mapped_column(String(200))
    dispatch_attempts: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    respond_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolve_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("channel", "external_id"),
        Index("ix_incidents_geom", "geom", postgresql_using="gist"),
        Index("ix_incidents_region_path", "region_path", postgresql_using="gin"),
        Index("ix_incidents_created_at", "created_at"),
    )


class Order(Base):
    """One assignee's share of an incident: a grid worker's order or a department's work order (工单)."""

    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    assignee_kind: Mapped[str] = mapped_column(String(16))  # worker | department
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("workers.id"), index=True)
    department_code: Mapped[str | None] = mapped_column(String(64), index=True)
    role: Mapped[str] = mapped_column(String(16), default="lead")  # lead | support
    status: Mapped[str] = mapped_column(String(24), index=True)
    distance_m: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()
    ack_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("assignee_kind IN ('worker','department')", name="assignee_kind"),
        CheckConstraint(
            "(assignee_kind = 'worker' AND worker_id IS NOT NULL) OR "
            "(assignee_kind = 'department' AND department_code IS NOT NULL)",
            name="assignee",
        ),
    )


class Event(Base):
    """Append-only log of every transition: who, when, from, to, why."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(48))
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(100), default="system")
    from_state: Mapped[str | None] = mapped_column(String(24))
    to_state: Mapped[str | None] = mapped_column(String(24))
    reason: Mapped[str | None] = mapped_column(Text)
    region_path: Mapped[list[str]] = mapped_column(ARRAY(String(64)), default=list)
    worker_id: Mapped[int | None] = mapped_column(Integer)
    department_code: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[dict] = mapped_column(JSONB, default=dict, server_default="{}")
    created_at: Mapped[datetime] = _now()
    # The writing transaction (pg_current_xact_id): lets the stream relay tell which events may still appear.
    txid: Mapped[int] = mapped_column(
        BigInteger, server_default=text("(pg_current_xact_id())::text::bigint"), index=True
    )

    # Fetch txid with the INSERT's RETURNING: it is read after commit, when the session can no longer load it.
    __mapper_args__ = {"eager_defaults": True}  # noqa: RUF012


class RequestKey(Base):
    """An Idempotency-Key sent with an action, stored in that action's own transaction: a retry finds it
    exactly when the first attempt committed (command.request_keys)."""

    __tablename__ = "request_keys"

    scope: Mapped[str] = mapped_column(String(64), primary_key=True)  # whose keys: "u<user id>"
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    request: Mapped[str] = mapped_column(String(300))  # "POST /api/v1/orders/3/accept"
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), index=True)
