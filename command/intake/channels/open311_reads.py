"""Open311 GeoReport v2, reads: the service requests filed through Open311, as the spec's request records.
Status, status_notes, agency_responsible and expected_datetime follow the incident; the reporter's name, phone
and e-mail are never shown. Only requests that came in through Open311 are visible here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, any_, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from command.core.errors import InvalidInput
from command.core.lifecycle import IncidentStatus as S
from command.core.models import Category, Department, Incident, Open311Request, Order
from geo.models import Region

CLOSED = frozenset({S.resolved, S.verified, S.callback_done, S.closed, S.cancelled, S.merged})
MAX_SPAN = timedelta(days=90)  # the spec's default window and longest range
STATUS_NOTES = {
    S.reported: "已受理 received", S.located: "已定位，待派单 located, being dispatched",
    S.dispatched: "已派单 dispatched", S.in_progress: "处理中 in progress", S.resolved: "已办结 resolved",
    S.verified: "已核查 verified", S.callback_done: "已回访 called back", S.closed: "已结案 closed",
    S.needs_attention: "待人工处理 an operator is handling it", S.returned: "已退回指挥中心 returned to the centre",
    S.suspended: "挂账 suspended", S.merged: "已合并至同一事件 merged with the same report",
    S.cancelled: "已撤销 cancelled", S.reopened: "已重新办理 reopened",
}


@dataclass(frozen=True, slots=True)
class RequestRecord:
    service_request_id: str
    status: str
    status_notes: str | None
    service_name: str | None
    service_code: str
    description: str | None
    agency_responsible: str | None
    service_notice: str | None
    requested_datetime: str
    updated_datetime: str | None
    expected_datetime: str | None
    address: str | None
    address_id: str | None
    zipcode: str | None
    lat: float | None
    long: float | None
    media_url: str | None


@dataclass(frozen=True, slots=True)
class Query:
    ids: tuple[int, ...] = ()
    service_codes: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    statuses: tuple[str, ...] = ()  # open | closed
    jurisdiction: str | None = None


def w3c(at: datetime | None, tz: ZoneInfo) -> str | None:
    return at.astimezone(tz).isoformat(timespec="seconds") if at is not None else None


def open_or_closed(status: str) -> str:
    return "closed" if status in CLOSED else "open"


def _window(q: Query, now: datetime) -> tuple[datetime, datetime]:
    end = q.end or (q.start + MAX_SPAN if q.start else now)
    start = q.start or end - MAX_SPAN
    if start > end:
        raise InvalidInput("start_date is after end_date", details=[{"field": "start_date", "reason": "order"}])
    if end - start > MAX_SPAN:
        raise InvalidInput("start_date to end_date may not span more than 90 days",
                           details=[{"field": "end_date", "reason": "span"}])
    return start, end


def _select(q: Query, now: datetime, limit: int) -> Select[Incident, Open311Request]:
    stmt = select(Incident, Open311Request).join(Open311Request, Open311Request.incident_id == Incident.id)
    if q.ids:  # the spec: ids override every other filter
        return stmt.where(Incident.id.in_(q.ids)).order_by(Incident.id).limit(limit)
    start, end = _window(q, now)
    stmt = stmt.where(Incident.created_at >= start, Incident.created_at <= end)
    if q.service_codes:
        stmt = stmt.where(Incident.category_code.in_(q.service_codes))
    if set(q.statuses) == {"open"}:
        stmt = stmt.where(Incident.status.not_in([s.value for s in CLOSED]))
    elif set(q.statuses) == {"closed"}:
        stmt = stmt.where(Incident.status.in_([s.value for s in CLOSED]))
    if q.jurisdiction:
        stmt = stmt.where(literal(q.jurisdiction) == any_(Incident.region_path))
    return stmt.order_by(Incident.created_at.desc(), Incident.id.desc()).limit(limit)


async def _agencies(session: AsyncSession, ids: list[int]) -> dict[int, list[str]]:
    rows = await session.execute(
        select(Order.incident_id, Department.name).join(Department, Department.code == Order.department_code)
        .where(Order.incident_id.in_(ids), Order.assignee_kind == "department").order_by(Order.id))
    out: dict[int, list[str]] = {}
    for incident_id, name in rows:
        if name not in out.setdefault(incident_id, []):
            out[incident_id].append(name)
    return out


async def find(session: AsyncSession, q: Query, *, now: datetime, limit: int, tz: ZoneInfo) -> list[RequestRecord]:
    pairs = (await session.execute(_select(q, now, limit))).all()
    if not pairs:
        return []
    ids = [i.id for i, _ in pairs]
    agencies = await _agencies(session, ids)
    names = dict((await session.execute(select(Category.code, Category.name_zh).where(
        Category.code.in_({i.category_code for i, _ in pairs})))).all())
    places = dict((await session.execute(select(Region.code, Region.path_names).where(
        Region.code.in_({i.region_code for i, _ in pairs if i.region_code})))).all())
    out = []
    for incident, req in pairs:
        status = S(incident.status)
        address = req.address_string or ("".join(places.get(incident.region_code or "", [])) or None)
        out.append(RequestRecord(
            service_request_id=str(incident.id), status=open_or_closed(status), status_notes=STATUS_NOTES.get(status),
            service_name=names.get(incident.category_code), service_code=incident.category_code,
            description=incident.description, agency_responsible="、".join(agencies.get(incident.id, [])) or None,
            service_notice=None, requested_datetime=w3c(incident.created_at, tz) or "",
            updated_datetime=w3c(incident.updated_at, tz), expected_datetime=w3c(incident.resolve_due_at, tz),
            address=address, address_id=req.address_id, zipcode=req.zipcode, lat=incident.lat, long=incident.lon,
            media_url=req.media_url))
    return out


async def by_token(session: AsyncSession, token: str) -> int | None:
    return await session.scalar(select(Open311Request.incident_id).where(Open311Request.token == token))
