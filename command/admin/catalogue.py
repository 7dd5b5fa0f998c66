"""The service catalogue (服务事项清单): searched and read by residents (/r), shown to operators so the counter can
tell a resident every material at once (一次性告知), exported as XLSX, edited on /admin (the 服务事项 tab).

The catalogue is district-wide: only an administrator without a region edits it (a region admin reads it).

Text cells of the export are neutralised against formula injection (a cell starting with = + - @, a tab or a
carriage return gets a leading apostrophe), as the ledger's are."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from command.admin.admin_scope import admin_region
from command.admin.audit import snapshot
from command.core.errors import Forbidden, InvalidInput, NotFound
from command.core.models import SERVICE_ITEM_TYPES, SERVICE_LEVELS, Category, ServiceItem
from command.core.security import Principal

GROUP_ORDER = ("行政审批", "公共服务", "证明服务", "社会服务")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")
COLUMNS = (("code", "编号"), ("group_name", "类别"), ("name", "事项名称"), ("department", "主管部门"),
           ("level", "办理层级"), ("item_type", "事项类型"), ("conditions", "受理条件"), ("materials", "申请材料"),
           ("office", "办理机构"), ("address", "地址"), ("hours", "办理时间"),
           ("time_limit_days", "办理时限（工作日）"), ("phone", "咨询电话"), ("online", "网上可办"),
           ("offline", "线下可办"))
LEVELS_ZH = {"community": "村（社区）", "street": "乡镇（街道）", "district": "区县部门"}
TYPES_ZH = {"immediate": "即办件", "promise": "承诺件", "joint": "联办件", "answer": "答复件"}
AUDIT_FIELDS = (*(key for key, _ in COLUMNS), "category_code", "active")  # an audit entry's before/after


def as_dict(item: ServiceItem) -> dict[str, Any]:
    return {key: getattr(item, key) for key, _ in COLUMNS} | {"category_code": item.category_code}


def _like(q: str) -> str:
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def search(session: AsyncSession, *, q: str | None = None, group: str | None = None,
                 withdrawn: bool = False) -> list[ServiceItem]:
    """Active items (and withdrawn ones if `withdrawn`) whose name, department, conditions or materials contain `q`,
    in `group` if given."""
    query = select(ServiceItem).order_by(ServiceItem.code)
    if not withdrawn:
        query = query.where(ServiceItem.active)
    if group:
        query = query.where(ServiceItem.group_name == group)
    if q:
        like = _like(q)
        query = query.where(or_(ServiceItem.name.ilike(like), ServiceItem.department.ilike(like),
                                ServiceItem.conditions.ilike(like), ServiceItem.code.ilike(like),
                                func.array_to_string(ServiceItem.materials, " ").ilike(like)))
    return list((await session.scalars(query)).all())


async def groups(session: AsyncSession, *, withdrawn: bool = False) -> list[str]:
    query = select(ServiceItem.group_name).distinct()
    found = set((await session.scalars(query if withdrawn else query.where(ServiceItem.active))).all())
    return [g for g in GROUP_ORDER if g in found] + sorted(found - set(GROUP_ORDER))


async def get_item(session: AsyncSession, code: str) -> ServiceItem:
    item = await session.scalar(select(ServiceItem).where(ServiceItem.code == code, ServiceItem.active))
    if item is None:
        raise NotFound(f"no service item {code}")
    return item


def _safe(value: object) -> object:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        value = "；".join(value)
    if isinstance(value, str):
        return "'" + value if value.startswith(_FORMULA) else value
    return value


def export_xlsx(items: list[ServiceItem]) -> bytes:
    """The catalogue as one sheet, Chinese headers, one row per item."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "服务事项清单"
    sheet.append([title for _, title in COLUMNS])
    for item in items:
        row = as_dict(item)
        row["level"] = LEVELS_ZH.get(row["level"], row["level"])
        row["item_type"] = TYPES_ZH.get(row["item_type"], row["item_type"])
        if row["time_limit_days"] is None:
            row["time_limit_days"] = "当场办结"
        sheet.append([_safe(row[key]) for key, _ in COLUMNS])
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def can_edit(principal: Principal) -> bool:
    return admin_region(principal) is None


def _ensure_editor(principal: Principal) -> None:
    if not can_edit(principal):
        raise Forbidden("the service catalogue is district-wide: only an administrator without a region may edit it")


async def save_item(session: AsyncSession, principal: Principal, *, code: str, values: dict[str, Any]
                    ) -> tuple[ServiceItem, dict[str, Any] | None]:
    """Create or replace the item `code` (an admin's edit; a withdrawn one is published again); (it, its state
    before or None when it was created)."""
    _ensure_editor(principal)
    if values["level"] not in SERVICE_LEVELS or values["item_type"] not in SERVICE_ITEM_TYPES:
        raise InvalidInput(f"level is one of {', '.join(SERVICE_LEVELS)}; item_type one of "
                           f"{', '.join(SERVICE_ITEM_TYPES)}")
    category = values.get("category_code")
    if category and not await session.scalar(select(Category.code).where(Category.code == category)):
        raise InvalidInput(f"unknown category {category!r}", details=[{"loc": ["body", "category_code"],
                                                                        "msg": "unknown category"}])
    item = await session.scalar(select(ServiceItem).where(ServiceItem.code == code).with_for_update())
    before = None
    if item is None:
        item = ServiceItem(code=code)
        session.add(item)
    else:
        before = snapshot(item, AUDIT_FIELDS)
    for key, value in values.items():
        setattr(item, key, value)
    item.active = True
    item.updated_at = func.now()  # PostgreSQL stamps it at the flush
    await session.flush()
    return item, before


async def withdraw(session: AsyncSession, principal: Principal, *, code: str) -> dict[str, Any]:
    """Take the item off the published catalogue (kept, so requests filed from it still name it); its state
    before."""
    _ensure_editor(principal)
    item = await session.scalar(select(ServiceItem).where(ServiceItem.code == code, ServiceItem.active)
                                .with_for_update())
    if item is None:
        raise NotFound(f"no service item {code}")
    before = snapshot(item, AUDIT_FIELDS)
    item.active = False
    await session.flush()
    return before
