"""The service catalogue (服务事项清单, seeds 000 and 002): what residents can ask for, with the conditions,
materials, office, time limit and phone published to them (issue 15 item 3)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ARRAY, Boolean, CheckConstraint, DateTime, Integer, SmallInteger, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from command.core.models.base import Base

SERVICE_LEVELS = ("community", "street", "district")
SERVICE_ITEM_TYPES = ("immediate", "promise", "joint", "answer")  # 即办 承诺 联办 答复


class ServiceItem(Base):
    __tablename__ = "service_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    group_name: Mapped[str] = mapped_column(String(32), index=True)  # 行政审批 / 公共服务 / 社会服务 / 证明服务…
    department: Mapped[str] = mapped_column(String(100))  # the competent department (民政局, 人社局…)
    category_code: Mapped[str | None] = mapped_column(String(64))  # what a request filed from it is about
    level: Mapped[str] = mapped_column(String(16))  # where it is handled after 下沉
    item_type: Mapped[str] = mapped_column(String(16))
    conditions: Mapped[str] = mapped_column(Text)  # 受理条件
    materials: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)  # 申请材料
    office: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300))
    hours: Mapped[str] = mapped_column(String(100))
    time_limit_days: Mapped[int | None] = mapped_column(SmallInteger)  # working days; None: on the spot
    phone: Mapped[str] = mapped_column(String(32))
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    offline: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        CheckConstraint("level IN ('community','street','district')", name="level"),
        CheckConstraint("item_type IN ('immediate','promise','joint','answer')", name="item_type"),
    )
