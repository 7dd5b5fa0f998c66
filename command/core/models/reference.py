"""Reference data: departments, categories and routing rules (edited by hand or an import, read on every alert
through command.core.refdata)."""

from __future__ import annotations

from sqlalchemy import (
    ARRAY,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from command.core.models.base import Base


class Department(Base):
    """A responsible unit (power, water, telecom, police station…) serving a region node."""

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32), index=True)
    region_code: Mapped[str] = mapped_column(String(64), index=True)
    phone: Mapped[str | None] = mapped_column(String(32))
    # Further regions the department also serves (its jurisdiction beyond `region_code`), set on /admin.
    region_codes: Mapped[list[str]] = mapped_column(ARRAY(String(64)), default=list, server_default="{}")


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
    """Who goes, per category, overridable per region (the deepest matching region wins), and the priority an alert
    takes there when its sender gives none (None: the category's default_priority)."""

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
    priority: Mapped[int | None] = mapped_column(SmallInteger)  # 1 urgent … 4 low, as incidents

    __table_args__ = (UniqueConstraint("category_code", "region_code"),
                      CheckConstraint("priority BETWEEN 1 AND 4", name="priority"))
