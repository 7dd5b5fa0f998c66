"""/api/v1/counter: counter intake at a service-centre desk (窗口/服务专柜, issue 15 item 4; command.intake.counter,
docs/counter.md). The operator picks the catalogue item and records the resident; a 即办件 is closed at once with its
outcome, a 承诺件 registered with the item's deadline in working days. The receipt carries the tracking link and its
QR code (segno, generated here: no CDN, no browser library)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import segno
from fastapi import APIRouter, Request
from pydantic import Field

from command.core.events import Actor
from command.core.scoping import ensure_incident
from command.core.summaries import iso
from command.intake import counter
from command.orders.tracking import tracking_page, tracking_token
from web.deps import Operator, RedisDep, SessionDep, SettingsDep
from web.request_models import Body
from web.request_types import Id32, Lat, Lon, SafeLine, VisibleLine, VisibleText

router = APIRouter(prefix="/api/v1/counter", tags=["counter"])


class Resident(Body):
    name: VisibleLine | None = Field(None, min_length=1, max_length=100)
    phone: SafeLine | None = Field(None, min_length=3, max_length=32)


class CounterIn(Body):
    item_code: SafeLine = Field(min_length=1, max_length=32, description="the service catalogue item")
    mode: Literal["on_the_spot", "promise"] = Field(description="即办 (closed at once) or 承诺件 (with its deadline)")
    description: VisibleText = Field(min_length=1, max_length=2000)
    lon: Lon
    lat: Lat
    resident: Resident = Field(default_factory=Resident)
    outcome: VisibleText | None = Field(None, min_length=1, max_length=2000, description="即办: how it was handled")


def _mask(phone: str | None) -> str | None:
    # The resident's own receipt, but a printed paper travels: the middle digits stay off it.
    if not phone:
        return None
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"


@router.post("", status_code=201)
async def take(body: CounterIn, principal: Operator, session: SessionDep, redis: RedisDep,
               settings: SettingsDep) -> dict[str, Any]:
    """201 with the incident, its status (closed for 即办), its deadline (承诺件) and the receipt page."""
    case = await counter.take(
        session, redis, settings=settings, actor=Actor(principal.username, principal.user_id),
        item_code=body.item_code, mode=body.mode, description=body.description, lon=body.lon, lat=body.lat,
        name=body.resident.name, phone=body.resident.phone, outcome=body.outcome)
    return {"incident_id": case.incident.id, "public_id": str(case.incident.public_id),
            "status": case.incident.status, "mode": case.mode, "due_at": iso(case.due_at),
            "receipt_url": f"/counter/receipt/{case.incident.id}"}


@router.get("/receipts/{incident_id}")
async def receipt(incident_id: Annotated[Id32, Field(description="the incident taken at the counter")],
                  request: Request, principal: Operator, session: SessionDep,
                  settings: SettingsDep) -> dict[str, Any]:
    """What the printed receipt shows: the item, the resident (phone masked), the outcome or the deadline, and the
    tracking link with its QR code (a PNG data URI)."""
    incident, item, mode, outcome = await counter.receipt(session, incident_id)
    ensure_incident(principal, incident)
    link = str(request.base_url).rstrip("/") + tracking_page(
        incident.public_id, tracking_token(settings.secret_key, incident.public_id))
    qr = segno.make(link, error="m")
    return {
        "incident_id": incident.id, "public_id": str(incident.public_id), "mode": mode, "status": incident.status,
        "created_at": iso(incident.created_at), "closed_at": iso(incident.closed_at), "outcome": outcome,
        "due_at": iso(incident.resolve_due_at) if mode == "promise" else None,
        "description": incident.description, "resident": {"name": incident.reporter_name,
                                                          "phone": _mask(incident.reporter_phone)},
        "item": {"code": item.code, "name": item.name, "department": item.department, "office": item.office,
                 "address": item.address, "phone": item.phone, "hours": item.hours, "item_type": item.item_type,
                 "time_limit_days": item.time_limit_days},
        "operator": principal.username, "tracking_url": link, "qr": qr.png_data_uri(scale=5, border=2),
    }
