"""Tables of the outside interfaces (migration 0012): Open311 client applications and the Open311 side of the
incidents they filed, and the field mappings of provincial hotline platforms (docs/interop.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from command.core.models.base import Base


class Open311Client(Base):
    """A client application allowed to POST Open311 requests: its api_key is shown once at issue and kept
    only as a SHA-256 digest; each has its own rate limit."""

    __tablename__ = "open311_clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    key_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    key_prefix: Mapped[str] = mapped_column(String(12))  # to tell keys apart in listings, never enough to use
    rate_per_min: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Open311Request(Base):
    """What an Open311 POST carried beyond the incident itself (its incident is the service request): the
    client, the token, the address and the reporter's contact (never shown by GET), the attributes."""

    __tablename__ = "open311_requests"

    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("open311_clients.id", ondelete="CASCADE"), index=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    jurisdiction_id: Mapped[str | None] = mapped_column(String(64))
    address_string: Mapped[str | None] = mapped_column(Text)
    address_id: Mapped[str | None] = mapped_column(String(128))
    zipcode: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(254))
    device_id: Mapped[str | None] = mapped_column(String(128))
    account_id: Mapped[str | None] = mapped_column(String(128))
    media_url: Mapped[str | None] = mapped_column(Text)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (Index("ix_open311_requests_created_at", "created_at"),)


class PlatformMapping(Base):
    """A hotline platform's wire format as data: field table in, status table out, category table
    (command.intake.channels.platform_mapping). The 12345 platform's built-in mapping needs no row."""

    __tablename__ = "platform_mappings"

    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    mapping: Mapped[dict[str, Any]] = mapped_column(JSONB)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


__all__ = ["Open311Client", "Open311Request", "PlatformMapping"]
