"""Tables of the standard interfaces (issue 17, migration 0013): GPS app devices bound to workers, CAP messages
taken in and the admin's CAP category mapping."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from command.core.models.base import Base, created_now


class GpsDevice(Base):
    """A GPS app's device id (OsmAnd protocol / Traccar Client) bound to one grid worker. The id is what the app
    sends with every report; `datum` is the datum of its coordinates (wgs84 from GPS apps)."""

    __tablename__ = "gps_devices"

    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id", ondelete="CASCADE"), index=True)
    datum: Mapped[str] = mapped_column(String(8), default="wgs84", server_default="wgs84")
    bound_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_now()


class CapMessage(Base):
    """One CAP 1.2 message taken in. (sender, identifier) is CAP's key: a message sent twice is taken once."""

    __tablename__ = "cap_messages"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    sender: Mapped[str] = mapped_column(Text)
    identifier: Mapped[str] = mapped_column(Text)
    sent: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(12))
    msg_type: Mapped[str] = mapped_column(String(8))
    refs: Mapped[str | None] = mapped_column(Text)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), index=True)
    grids: Mapped[list[str]] = mapped_column(ARRAY(String(64)), default=list, server_default="{}")
    infos: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list, server_default="[]")
    xml: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = created_now()

    __table_args__ = (UniqueConstraint("sender", "identifier"),)


class CapCategoryMap(Base):
    """An admin's mapping from a CAP `<event>` (checked first) or `<category>` to a gridcmd category."""

    __tablename__ = "cap_category_map"

    kind: Mapped[str] = mapped_column(String(8), primary_key=True)  # event | category
    value: Mapped[str] = mapped_column(String(128), primary_key=True)
    category_code: Mapped[str] = mapped_column(ForeignKey("categories.code"))
    priority: Mapped[int | None] = mapped_column(SmallInteger)

    __table_args__ = (CheckConstraint("kind IN ('event', 'category')", name="kind"),)
