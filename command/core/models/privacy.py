"""Tables of personal-data protection (PIPL, migration 0014): who viewed a reporter's phone, and what each
erasure (a resident's request, or the retention job) removed (docs/operations.md)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from command.core.models.base import Base

ERASURE_KINDS = ("resident", "retention")


class ReporterView(Base):
    """One reading of a reporter's name and phone by a user (the incident detail shows them to call back)."""

    __tablename__ = "reporter_views"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    username: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    via: Mapped[str] = mapped_column(String(48))
    request_id: Mapped[str | None] = mapped_column(String(64))
    viewed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), index=True)


class Erasure(Base):
    """What one erasure removed. The resident is named by a keyed hash of the phone only: the record proves the
    request was carried out without keeping what was erased."""

    __tablename__ = "erasures"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    subject_hash: Mapped[str | None] = mapped_column(String(64))
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    incidents: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    events: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    photos: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    positions: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (CheckConstraint("kind IN ('resident','retention')", name="kind"),)
