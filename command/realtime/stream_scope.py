"""Who may see which stream entries: a wall display its region, a worker their own orders, a liaison their
department's — the same rule for the WebSocket and for GET /api/v1/events.

Operators, supervisors and admins watch a region: every entry whose region chain contains it. The region must
lie inside their own (an admin, or a user without a region — the top centre — may watch any, or everything).
A worker gets the entries of their own orders, and the incident entries of incidents they hold an order on
(followed from the orders PostgreSQL shows at subscribe time, then as their own order entries come and go);
never another assignee's order entries. A liaison likewise, for their department."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from command.core.errors import Forbidden, InvalidInput
from command.core.lifecycle import INCIDENT_TERMINAL, ORDER_HOLDING, OrderStatus
from command.core.models import Incident, Order
from command.core.security import Principal
from command.realtime.stream import StreamEntry
from geo.models import Region

WATCHERS = frozenset({"admin", "supervisor", "operator"})
_RELEASED = frozenset({"declined", "timed_out", "returned", "cancelled"})
_TERMINAL = frozenset(s.value for s in INCIDENT_TERMINAL)
_FOLLOWED_ORDERS = [s.value for s in ORDER_HOLDING | {OrderStatus.done}]


@dataclass
class Scope:
    everything: bool = False
    region: str | None = None
    worker_id: int | None = None
    department_code: str | None = None
    follows: set[int] = field(default_factory=set)
    # Called with (incident_id, True/False) when a followed incident is added/dropped (the hub's index).
    on_follow: Callable[[int, bool], None] | None = None

    def describe(self) -> dict[str, Any]:
        return {"everything": self.everything, "region": self.region, "worker_id": self.worker_id,
                "department_code": self.department_code}

    def observe(self, entry: StreamEntry) -> bool:
        """Whether `entry` is in scope; own order entries also start/stop following their incident."""
        if self.everything:
            return True
        if self.region is not None:
            return self.region in entry.region_path
        own = (self.worker_id is not None and entry.worker_id == self.worker_id) or (
            self.department_code is not None and entry.department_code == self.department_code)
        to_state = entry.event.get("to_state")
        if own:
            if entry.incident_id is not None:
                self._follow(entry.incident_id, to_state not in _RELEASED)
            return True
        if entry.worker_id is None and entry.department_code is None and entry.incident_id in self.follows:
            if to_state in _TERMINAL:
                self._follow(entry.incident_id, False)
            return True
        return False

    def _follow(self, incident_id: int, on: bool) -> None:
        if on == (incident_id in self.follows):
            return
        (self.follows.add if on else self.follows.discard)(incident_id)
        if self.on_follow is not None:
            self.on_follow(incident_id, on)


async def region_path(session: AsyncSession, code: str) -> list[str] | None:
    return await session.scalar(select(Region.path).where(Region.code == code))


async def _followed(session: AsyncSession, holder: Any) -> set[int]:
    rows = await session.scalars(
        select(Order.incident_id).join(Incident, Incident.id == Order.incident_id)
        .where(holder, Order.status.in_(_FOLLOWED_ORDERS), Incident.status.not_in(_TERMINAL))
        .distinct().limit(5000)
    )
    return set(rows)


async def resolve_scope(session: AsyncSession, *, principal: Principal, region: str | None) -> Scope:
    """The scope `principal` may have for a requested region (None: their default). Forbidden/InvalidInput
    when they may not; reads only."""
    if principal.role in WATCHERS:
        unrestricted = not principal.region_code  # a region admin watches their region, like an operator
        if region is None:
            return Scope(everything=True) if unrestricted else Scope(region=principal.region_code)
        path = await region_path(session, region)
        if path is None:
            raise InvalidInput(f"unknown region {region!r}")
        if not unrestricted and principal.region_code not in path:
            raise Forbidden(f"region {region} is outside your region {principal.region_code}")
        return Scope(region=region)
    if region is not None:
        raise Forbidden(f"a {principal.role} receives their own orders; they cannot watch a region")
    if principal.role == "worker":
        if principal.worker_id is None:
            raise Forbidden("this account has no grid worker record")
        follows = await _followed(session, Order.worker_id == principal.worker_id)
        return Scope(worker_id=principal.worker_id, follows=follows)
    if principal.role == "liaison":
        if not principal.department_code:
            raise Forbidden("this liaison account has no department")
        follows = await _followed(session, Order.department_code == principal.department_code)
        return Scope(department_code=principal.department_code, follows=follows)
    raise Forbidden(f"role {principal.role!r} has no event feed")
