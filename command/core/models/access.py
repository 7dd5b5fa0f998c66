"""Tables of identity and access (migration 0007): revoked sessions and the login audit (docs/security.md)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from command.core.models.base import Base

LOGIN_RESULTS = ("success", "failure", "throttled")


class RevokedSession(Base):
    """A session ended by logout: every token of it (the login's and its renewals') is refused until
    `expires_at`, after which none of them can be valid anyway. PostgreSQL is the truth; processes cache it."""

    __tablename__ = "revoked_sessions"

    session_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    revoked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class LoginAttempt(Base):
    """One row per login attempt: who asked (the username as typed), from where, and how it ended."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    username: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    address: Mapped[str] = mapped_column(String(64))
    result: Mapped[str] = mapped_column(String(16))

    __table_args__ = (
        CheckConstraint("result IN ('success','failure','throttled')", name="result"),
        Index("ix_login_attempts_username_at", "username", "at"),
        Index("ix_login_attempts_at", "at"),
    )
