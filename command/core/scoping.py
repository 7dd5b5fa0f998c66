"""Region and department scope of a caller, for every list, statistic and action of the closed loop.

A user without a region (the top centre, and a province-wide admin) sees everything; anyone else — a region
admin included — sees the incidents whose region chain contains their region. A liaison acts only on their
department's orders."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, String, cast
from sqlalchemy.dialects.postgresql import ARRAY, array
from sqlalchemy.orm import QueryableAttribute

from command.core.errors import Forbidden
from command.core.models import Incident, Order
from command.core.security import Principal


def array_contains(column: ColumnElement[Any] | QueryableAttribute[Any], value: str | int) -> ColumnElement[bool]:
    """`column @> ARRAY[value]` (uses the GIN index; the models use the generic ARRAY type, which lacks it)."""
    element = cast(array([value]), ARRAY(String)) if isinstance(value, str) else array([value])
    return column.bool_op("@>")(element)


def scope_region(principal: Principal) -> str | None:
    """The region the caller is limited to; None for a user without a region (the top centre, a global admin).
    A region admin is limited like anyone else: what /admin lets them edit is also all they see."""
    return principal.region_code or None


def unrestricted(principal: Principal) -> bool:
    return scope_region(principal) is None


def incident_clause(principal: Principal) -> ColumnElement[bool] | None:
    """A WHERE clause limiting incidents to the caller's region (None: no limit)."""
    region = scope_region(principal)
    return None if region is None else array_contains(Incident.region_path, region)


def region_in_scope(principal: Principal, region_path: Sequence[str]) -> bool:
    region = scope_region(principal)
    return region is None or region in (region_path or [])


def ensure_incident(principal: Principal, incident: Incident) -> None:
    if not region_in_scope(principal, incident.region_path or []):
        raise Forbidden(f"incident {incident.id} is outside your region")


def ensure_department_order(principal: Principal, order: Order, incident: Incident) -> None:
    """A liaison acts on their own department's work orders; supervisors and admins within their region."""
    if order.assignee_kind != "department":
        raise Forbidden(f"order {order.id} is a grid worker's order, not a department work order")
    if principal.role == "liaison":
        if principal.department_code != order.department_code:
            raise Forbidden(f"order {order.id} belongs to another department")
        return
    ensure_incident(principal, incident)
