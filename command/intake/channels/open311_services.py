"""Open311 services: the one place that says which gridcmd category is which Open311 service, with its
attributes. Today every active category is a service (code = category code); when the service catalogue
(清单) exists, its groups, keywords and descriptions are read here and nowhere else."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from command.core.errors import InvalidInput
from command.core.models import Category

GROUPS = {"service": {"zh": "网格服务", "en": "Grid services"},
          "emergency": {"zh": "紧急警情", "en": "Emergency alarms"}}


@dataclass(frozen=True, slots=True)
class AttributeValue:
    key: str
    name: str


@dataclass(frozen=True, slots=True)
class Attribute:
    code: str
    datatype: str  # string | number | datetime | text | singlevaluelist | multivaluelist
    required: bool
    description: str
    order: int
    datatype_description: str | None = None
    variable: bool = True
    values: tuple[AttributeValue, ...] = ()


# Attributes every service takes: priority overrides the routing rule's or the category's default (1 most urgent).
PRIORITY = Attribute(
    code="priority", datatype="singlevaluelist", required=False, order=1,
    description="紧急程度 Priority (1 最紧急 most urgent … 4); default: the place's routing rule's, else the "
                "category's own",
    values=(AttributeValue("1", "1 特急 Most urgent"), AttributeValue("2", "2 紧急 Urgent"),
            AttributeValue("3", "3 一般 Normal"), AttributeValue("4", "4 缓办 Low")))
COMMON_ATTRIBUTES: tuple[Attribute, ...] = (PRIORITY,)


@dataclass(frozen=True, slots=True)
class Service:
    service_code: str
    service_name: str
    description: str
    group: str
    keywords: str
    type: str = "realtime"  # stored, located and dispatched at once
    attributes: tuple[Attribute, ...] = field(default=COMMON_ATTRIBUTES)

    @property
    def metadata(self) -> bool:
        return bool(self.attributes)


def _service(category: Category, locale: str) -> Service:
    zh, en = category.name_zh, category.name_en
    group = GROUPS.get(category.group, {"zh": category.group, "en": category.group})
    return Service(service_code=category.code, service_name=en if locale == "en" else zh,
                   description=f"{zh} / {en}", group=group["en" if locale == "en" else "zh"],
                   keywords=",".join(dict.fromkeys([zh, en, category.code])))


async def services(session: AsyncSession, *, locale: str = "zh") -> list[Service]:
    rows = await session.scalars(select(Category).where(Category.active.is_(True)).order_by(Category.code))
    return [_service(c, locale) for c in rows]


async def service(session: AsyncSession, code: str, *, locale: str = "zh") -> Service | None:
    category = await session.get(Category, code)
    if category is None or not category.active:
        return None
    return _service(category, locale)


def read_attributes(svc: Service, given: dict[str, str]) -> dict[str, str]:
    """The request's attribute[code] values checked against the service's attributes: a required one missing, an
    unknown code or a value outside a list is refused (nothing is stored)."""
    known = {a.code: a for a in svc.attributes}
    for code in given:
        if code not in known:
            raise InvalidInput(f"attribute[{code}] is not an attribute of service {svc.service_code}",
                               details=[{"field": f"attribute[{code}]", "reason": "unknown"}])
    for attr in svc.attributes:
        value = given.get(attr.code)
        if value in (None, ""):
            if attr.required:
                raise InvalidInput(f"attribute[{attr.code}] is required for service {svc.service_code}",
                                   details=[{"field": f"attribute[{attr.code}]", "reason": "missing"}])
            continue
        if attr.datatype in ("singlevaluelist", "multivaluelist"):
            keys = {v.key for v in attr.values}
            chosen = value.split(",") if attr.datatype == "multivaluelist" else [value]
            if any(c not in keys for c in chosen):
                raise InvalidInput(f"attribute[{attr.code}] must be one of {', '.join(sorted(keys))}",
                                   details=[{"field": f"attribute[{attr.code}]", "reason": "not in list"}])
    return {k: v for k, v in given.items() if v != ""}
