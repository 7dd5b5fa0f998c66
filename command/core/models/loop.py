"""Tables of the closed loop (闭环): deadlines and their rules, extensions, links between incidents,
callbacks, uploads, patrol tasks and the 12345 platform link.

They hang off incidents and orders (command.core.models) without changing those tables: counters such as
rework and reopen are read from the event log, which is the truth for every move."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
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

from command.core.models.base import Base

DEADLINE_KINDS = ("sign_for", "respond", "feedback", "resolve")


def _ts() -> Mapped[datetime | None]:
    return mapped_column(DateTime(timezone=True), nullable=True)


class DeadlineRule(Base):
    """A time limit, overriding the built-in defaults (command.deadlines.rules) for a category, region,
    channel and/or priority. Among the rules that match, the deepest region wins."""

    __tablename__ = "deadline_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    category_code: Mapped[str | None] = mapped_column(ForeignKey("categories.code", ondelete="CASCADE"))
    region_code: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str | None] = mapped_column(String(16))
    priority: Mapped[int | None] = mapped_column(SmallInteger)
    limit_s: Mapped[int | None] = mapped_column(Integer)
    # A limit in China's working days (command.deadlines.workdays): ends at the close of the Nth working day.
    limit_workdays: Mapped[int | None] = mapped_column(SmallInteger)
    same_day: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    remind_before_s: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    note: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (
        CheckConstraint("kind IN ('sign_for','respond','feedback','resolve')", name="kind"),
        CheckConstraint("same_day OR limit_s > 0 OR limit_workdays > 0", name="limit"),
        CheckConstraint("remind_before_s >= 0", name="remind"),
    )


class Deadline(Base):
    """One timer. Each stage fires once: its timestamp column is set by the process that claims it,
    in the transaction that appends the event (so two schedulers never both fire it)."""

    __tablename__ = "deadlines"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # "incident:12:resolve:0", "order:34:sign_for:0": lets the adoption sweep insert idempotently.
    key: Mapped[str] = mapped_column(String(80), unique=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    remind_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    reminded_at: Mapped[datetime | None] = _ts()
    overdue_at: Mapped[datetime | None] = _ts()
    met_at: Mapped[datetime | None] = _ts()
    supervision_level: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    next_escalation_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        CheckConstraint("kind IN ('sign_for','respond','feedback','resolve')", name="kind"),
        # What the scheduler still has to fire, one partial index per stage (migration 0023): its claims and the
        # lag metric read only pending rows, not the whole history.
        Index("ix_deadlines_remind_pending", "remind_at",
              postgresql_where=text("met_at IS NULL AND reminded_at IS NULL")),
        Index("ix_deadlines_due_pending", "due_at", postgresql_where=text("met_at IS NULL AND overdue_at IS NULL")),
        Index("ix_deadlines_escalation_pending", "next_escalation_at",
              postgresql_where=text("met_at IS NULL AND next_escalation_at IS NOT NULL")),
    )


class ExtensionRequest(Base):
    """A department asks for more time (延期); a supervisor grants or refuses it."""

    __tablename__ = "extension_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    requested_due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = _ts()
    decision_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (CheckConstraint("status IN ('pending','granted','refused')", name="status"),)


class IncidentLink(Base):
    """A suspected duplicate (suggested to the operator) or a merged one."""

    __tablename__ = "incident_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    other_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    distance_m: Mapped[float | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        CheckConstraint("kind IN ('suggested','merged','dismissed')", name="kind"),
        UniqueConstraint("incident_id", "other_id"),
    )


class Callback(Base):
    """A satisfaction rating (回访): from the resident's tracking link or an operator's phone call."""

    __tablename__ = "callbacks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    rating: Mapped[str] = mapped_column(String(24))
    via: Mapped[str] = mapped_column(String(8))
    comment: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reopened: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        CheckConstraint("rating IN ('satisfied','basically_satisfied','dissatisfied')", name="rating"),
        CheckConstraint("via IN ('link','phone')", name="via"),
    )


class Upload(Base):
    """A photo (jpeg/png/webp, checked by its magic bytes) stored under settings.upload_dir."""

    __tablename__ = "uploads"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    content_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(300))
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The incident it was attached to (once): who may read it follows from it (command.orders.uploads).
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # The file was deleted (retention or an erasure request); the row stays for the events that name it.
    erased_at: Mapped[datetime | None] = _ts()


class PatrolTask(Base):
    """A recurring visit to a grid: a weekly visit day and an optional callback day (0 = Monday)."""

    __tablename__ = "patrol_tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    grid_code: Mapped[str] = mapped_column(String(64), index=True)
    title: Mapped[str] = mapped_column(String(200))
    visit_weekday: Mapped[int] = mapped_column(SmallInteger)
    callback_weekday: Mapped[int | None] = mapped_column(SmallInteger)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        CheckConstraint("visit_weekday BETWEEN 0 AND 6", name="visit_weekday"),
        CheckConstraint("callback_weekday IS NULL OR callback_weekday BETWEEN 0 AND 6", name="callback_weekday"),
    )


class PatrolVisit(Base):
    """One planned visit (or callback visit) of a task on a date, assigned to the grid's workers."""

    __tablename__ = "patrol_visits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("patrol_tasks.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    due_date: Mapped[date] = mapped_column(Date)
    worker_ids: Mapped[list[int]] = mapped_column(ARRAY(Integer), default=list)
    status: Mapped[str] = mapped_column(String(16), default="planned")
    done_by: Mapped[int | None] = mapped_column(ForeignKey("workers.id"))
    done_at: Mapped[datetime | None] = _ts()
    notes: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint("kind IN ('visit','callback')", name="kind"),
        CheckConstraint("status IN ('planned','done')", name="status"),
        UniqueConstraint("task_id", "kind", "due_date"),
        Index("ix_patrol_visits_worker_ids", "worker_ids", postgresql_using="gin"),
    )


class PatrolFinding(Base):
    """An incident reported during a patrol visit (channel patrol)."""

    __tablename__ = "patrol_findings"

    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("patrol_visits.id", ondelete="CASCADE"), index=True)


class HotlineCategory(Base):
    """The 12345 platform's category code → ours."""

    __tablename__ = "hotline_categories"

    their_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    category_code: Mapped[str] = mapped_column(ForeignKey("categories.code", ondelete="CASCADE"))


class HotlineOutbox(Base):
    """Status changes to report back to the 12345 platform. Rows are written by a trigger on `events`
    (migration 0002), so they commit with the change itself whatever code made it."""

    __tablename__ = "hotline_outbox"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), unique=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    external_id: Mapped[str] = mapped_column(String(128), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    delivered_at: Mapped[datetime | None] = _ts()
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        Index("ix_hotline_outbox_pending", "external_id", "id", postgresql_where=text("delivered_at IS NULL")),
    )
