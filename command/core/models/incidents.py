"""Incidents, their orders, the append-only event log and the Idempotency-Keys of actions."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    ARRAY,
    BigInteger,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from command.core.models.base import Base, created_now

# Open incidents whose reason says they lack workers (codes no_worker and waiting_for_workers of
# command.core.attention): command.assign.staffing retries them every sweeper tick. A partial index with this predicate
# keeps that query to those few rows however many incidents there are (74 ms a tick at 109,000 open incidents through
# the status index; under 1 ms with it), and rows leave it as their incidents move on. The query states the predicate
# literally, so the planner can use the index with any plan (a bound parameter would hide the implication).
SHORT_OF_WORKERS_SQL = ("status IN ('needs_attention', 'dispatched', 'in_progress') "
                        "AND (attention_reason LIKE 'no_worker%' OR attention_reason LIKE '%; no_worker%' "
                        "OR attention_reason LIKE 'waiting_for_workers%' "
                        "OR attention_reason LIKE '%; waiting_for_workers%')")


# Reporter data not erased yet: what the retention job looks through (a partial index, migration 0014).
REPORTER_PENDING_SQL = ("reporter_erased_at IS NULL AND (reporter_phone IS NOT NULL OR reporter_name IS NOT NULL)")


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
    # The catalogue item (服务事项) a request was filed from, when it was (a resident's guide, the hotline form, the
    # counter): service_items.code, not a foreign key (items are withdrawn, never deleted; migration 0022).
    service_item_code: Mapped[str | None] = mapped_column(String(32))
    # When the reporter's name and phone (and their traces in the texts) were erased: retention or a request.
    reporter_erased_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    external_id: Mapped[str | None] = mapped_column(String(128))
    # Whose id space external_id belongs to: the sender's key scope (command.intake.intake), "12345" for the
    # platform link.
    external_scope: Mapped[str] = mapped_column(String(64), default="", server_default="")
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)  # "<scope>:<key>"
    attention_reason: Mapped[str | None] = mapped_column(String(200))
    dispatch_attempts: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_now()
    updated_at: Mapped[datetime] = created_now()
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    respond_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolve_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The alert area a CAP message gave (any geometry, WGS-84) and every grid it touches (command.intake.channels.cap).
    # Deferred: an incident read never loads a polygon that may have thousands of vertices; written by native SQL.
    area: Mapped[object | None] = mapped_column(Geometry("GEOMETRY", srid=4326, spatial_index=False), deferred=True)
    area_grids: Mapped[list[str] | None] = mapped_column(ARRAY(String(64)), deferred=True)

    __table_args__ = (
        UniqueConstraint("channel", "external_scope", "external_id"),
        Index("ix_incidents_geom", "geom", postgresql_using="gist"),
        Index("ix_incidents_region_path", "region_path", postgresql_using="gin"),
        Index("ix_incidents_created_at", "created_at"),
        Index("ix_incidents_short_of_workers", "updated_at", postgresql_where=text(SHORT_OF_WORKERS_SQL)),
        Index("ix_incidents_reporter_pending", "updated_at", postgresql_where=text(REPORTER_PENDING_SQL)),
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
    created_at: Mapped[datetime] = created_now()
    updated_at: Mapped[datetime] = created_now()
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

    def assigned_worker_id(self) -> int:
        """The worker of a worker order (the `assignee` constraint guarantees one)."""
        if self.worker_id is None:
            raise ValueError(f"order {self.id} ({self.assignee_kind}) has no worker")
        return self.worker_id


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
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    created_at: Mapped[datetime] = created_now()
    # The writing transaction (pg_current_xact_id): lets the stream relay tell which events may still appear.
    txid: Mapped[int] = mapped_column(
        BigInteger, server_default=text("(pg_current_xact_id())::text::bigint"), index=True
    )

    # Fetch txid with the INSERT's RETURNING: it is read after commit, when the session can no longer load it.
    __mapper_args__ = {"eager_defaults": True}  # noqa: RUF012


class RequestKey(Base):
    """An Idempotency-Key sent with an action, stored in that action's own transaction: a retry finds it
    exactly when the first attempt committed (command.core.request_keys)."""

    __tablename__ = "request_keys"

    scope: Mapped[str] = mapped_column(String(64), primary_key=True)  # whose keys: "u<user id>"
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    request: Mapped[str] = mapped_column(String(300))  # "POST /api/v1/orders/3/accept"
    body_sha256: Mapped[str | None] = mapped_column(String(64))  # the body the key was first used with
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), index=True)
