"""Command-centre communication: notices to workers and liaisons with their read receipts, the operators' duty
roster and the shift handover notes (交接班) the next operator on duty signs (issue 15 item 7)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from command.core.models.base import Base, created_now


class Notice(Base):
    """A notice (通知) an operator sent; `targets` keeps what was chosen, the recipients who it reached."""

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    priority: Mapped[int] = mapped_column(SmallInteger, default=3)  # 1 urgent … 4 low, as incidents
    sender_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    sender_name: Mapped[str] = mapped_column(String(100))
    # The sender's region chain: read receipts are published there, so the sender's console sees them live.
    region_path: Mapped[list[str]] = mapped_column(ARRAY(String(64)), default=list)
    targets: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = created_now()

    __table_args__ = (CheckConstraint("priority BETWEEN 1 AND 4", name="priority"),)


class NoticeRecipient(Base):
    """One account a notice reached: a grid worker or a department's liaison; read_at once they marked it read."""

    __tablename__ = "notice_recipients"

    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    worker_id: Mapped[int | None] = mapped_column(Integer)
    department_code: Mapped[str | None] = mapped_column(String(64))
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class DutyShift(Base):
    """One operator on duty for one shift (值班表) of a region's command centre."""

    __tablename__ = "duty_shifts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    region_code: Mapped[str | None] = mapped_column(String(64), index=True)  # None: the top centre
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_now()

    __table_args__ = (CheckConstraint("ends_at > starts_at", name="ends_after_start"),)


class Handover(Base):
    """A shift handover note (交接班记录): written by the outgoing operator, signed (签收) by the next one."""

    __tablename__ = "handovers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    region_code: Mapped[str | None] = mapped_column(String(64), index=True)
    from_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    to_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # the next on duty, when rostered
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = created_now()
    signed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    signed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sign_note: Mapped[str | None] = mapped_column(Text)
