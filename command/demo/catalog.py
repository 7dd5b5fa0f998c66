"""Reference data of the demo: departments with their jurisdictions, the incident categories of
DOMAIN.md, and the default routing rule of each category. Pure data, written by command.demo.load."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CategorySpec:
    code: str
    name_zh: str
    name_en: str
    group: str  # service | emergency
    default_priority: int  # 1 = most urgent
    item_type: str  # immediate | promise | joint | answer
    department_kinds: tuple[str, ...]
    workers_needed: int = 1
    radius_m: float = 3000.0
    own_grid_first: bool = True
    ack_timeout_s: int = 120
    max_attempts: int = 3


def _service(code: str, zh: str, en: str, priority: int, item: str, kinds: tuple[str, ...] = ()) -> CategorySpec:
    # A service request goes to the grid's own worker first; there is time to wait for an answer.
    return CategorySpec(code, zh, en, "service", priority, item, kinds, ack_timeout_s=300)


def _alarm(code: str, zh: str, en: str, kinds: tuple[str, ...], workers: int, radius: float,
           priority: int = 1) -> CategorySpec:
    # An alarm goes to the nearest available workers wherever they belong, with a short acceptance limit.
    return CategorySpec(code, zh, en, "emergency", priority, "immediate", kinds, workers_needed=workers,
                        radius_m=radius, own_grid_first=False, ack_timeout_s=45, max_attempts=4)


# The 14 grid service categories of seed 001, then the emergency alarms that sit beside them.
CATEGORIES: tuple[CategorySpec, ...] = (
    _service("law_publicity", "法律法规宣传", "Legal publicity", 4, "answer"),
    _service("family_planning", "计划生育", "Family planning", 4, "promise", ("civil_affairs",)),
    _service("civilized_city", "城市双创", "Civilised & hygienic city campaign", 3, "promise", ("urban_management",)),
    _service("public_security", "综治安全", "Public order & safety", 2, "joint", ("police",)),
    _service("social_security", "社会保障", "Social security", 3, "promise", ("civil_affairs",)),
    _service("culture_education", "文化教育", "Culture & education", 4, "promise"),
    _service("health", "医疗卫生", "Medical & health care", 3, "promise"),
    _service("subsistence_allowance", "城市低保", "Urban subsistence allowance", 3, "promise", ("civil_affairs",)),
    _service("disability_aid", "残疾人救助", "Disability assistance", 3, "promise", ("civil_affairs",)),
    _service("low_rent_housing", "廉租房申报", "Low-rent housing application", 4, "promise", ("civil_affairs",)),
    _service("elderly_care", "老人关护", "Elderly care", 2, "immediate", ("civil_affairs",)),
    _service("dispute_mediation", "矛盾纠纷排查", "Dispute screening & mediation", 2, "joint", ("police",)),
    _service("community_correction", "社区矫正", "Community correction", 3, "joint", ("police",)),
    _service("public_facilities", "公共设施管理", "Public facilities", 3, "promise", ("urban_management",)),
    _alarm("fire", "火情", "Fire", ("fire", "police"), 2, 2000),
    _alarm("cable_down", "电线断落", "Power line down", ("power",), 1, 2000),
    _alarm("flooding", "积水内涝", "Flooding / waterlogging", ("urban_management", "water"), 2, 3000),
    _alarm("gas_leak", "燃气泄漏", "Gas leak", ("fire", "police"), 2, 2000),
    _alarm("water_main_burst", "水管爆裂", "Water main burst", ("water",), 1, 3000),
    _alarm("road_collapse", "路面塌陷", "Road collapse", ("urban_management", "police"), 1, 3000),
    _alarm("person_injured", "人员受伤", "Fall / injured person", ("police",), 1, 1500),
    _alarm("telecom_outage", "通信线路中断", "Telecom line cut", ("telecom",), 1, 3000, priority=2),
)

CATEGORY_BY_CODE = {c.code: c for c in CATEGORIES}


@dataclass(frozen=True, slots=True)
class DepartmentKind:
    kind: str
    scope: str  # district: one for the whole district; street: one per street
    name: str  # {district} / {street} are filled in with the short region name
    phone_prefix: str


DEPARTMENT_KINDS: tuple[DepartmentKind, ...] = (
    DepartmentKind("power", "district", "{district}供电中心", "025-8461"),
    DepartmentKind("water", "district", "{district}供水所", "025-8462"),
    DepartmentKind("telecom", "district", "{district}通信分公司", "025-8463"),
    DepartmentKind("fire", "district", "{district}消防救援大队", "025-8464"),
    DepartmentKind("civil_affairs", "district", "{district}区民政局", "025-8465"),
    DepartmentKind("police", "street", "{street}派出所", "025-8466"),
    DepartmentKind("urban_management", "street", "{street}城管中队", "025-8467"),
)


@dataclass(frozen=True, slots=True)
class DepartmentSpec:
    code: str
    name: str
    kind: str
    region_code: str
    phone: str
    liaison: str  # username of its liaison account


def departments(district: tuple[str, str], streets: list[tuple[str, str]]) -> list[DepartmentSpec]:
    """One department per district-wide kind, one per street for the others (派出所, 城管中队)."""
    d_code, d_name = district
    d_short = d_name.removesuffix("区")
    out: list[DepartmentSpec] = []
    for dk in DEPARTMENT_KINDS:
        if dk.scope == "district":
            out.append(DepartmentSpec(f"{dk.kind}-{d_code}", dk.name.format(district=d_short), dk.kind, d_code,
                                      f"{dk.phone_prefix}0000", f"l-{dk.kind}"))
            continue
        for i, (s_code, s_name) in enumerate(streets, start=1):
            out.append(DepartmentSpec(f"{dk.kind}-{s_code}", dk.name.format(street=s_name.removesuffix("街道")),
                                      dk.kind, s_code, f"{dk.phone_prefix}{i:04d}", f"l-{dk.kind}-{i}"))
    return out
