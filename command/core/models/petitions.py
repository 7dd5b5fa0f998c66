"""Petitions (信访, issue 15 item 5): one row per petition incident with its legal steps and their deadlines —
registered on the spot, the acceptance notice (受理告知), the responsible leader (领导包案), one extension with a
reason, the reply letter (答复意见), the petitioner's answer (满意/不满意) and the review (复查)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from command.core.models.base import Base, created_now

PETITION_STATES = ("registered", "noticed", "replied", "reviewing", "closed")
# users.petition_role: who may see petitioners (staff of the 信访 office) and who may be assigned a case (leaders).
PETITION_ROLES = ("staff", "leader")


class Petition(Base):
    __tablename__ = "petitions"

    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), default="registered")
    form: Mapped[str] = mapped_column(String(16))  # visit | letter | phone | online (来访/来信/来电/网上)
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    registered_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    notice_due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    noticed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    notice_text: Mapped[str | None] = mapped_column(Text)
    leader_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    leader_assigned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reply_due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    extended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    extension_workdays: Mapped[int | None] = mapped_column(SmallInteger)
    extension_reason: Mapped[str | None] = mapped_column(Text)
    replied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reply_text: Mapped[str | None] = mapped_column(Text)
    replied_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    satisfied: Mapped[bool | None] = mapped_column()
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    review_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    review_reason: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    review_text: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_now()

    __table_args__ = (
        CheckConstraint("state IN ('registered','noticed','replied','reviewing','closed')", name="state"),
        CheckConstraint("form IN ('visit','letter','phone','online')", name="form"),
    )


__all__ = ["PETITION_ROLES", "PETITION_STATES", "Petition"]
