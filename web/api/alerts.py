"""POST /api/v1/alerts: one report from any channel → stored, located, dispatched (command.intake.intake)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Header, Response
from pydantic import Field

from command.core.errors import Conflict, Forbidden
from command.core.events import Actor
from command.core.scoping import region_in_scope
from command.core.summaries import incident_summary, order_summary
from command.intake.intake import CHANNELS, AlertIn, submit_alert
from command.intake.service_items import item_of_request
from web.deps import OperatorOrWorker, RedisDep, SessionDep, SettingsDep
from web.openapi_errors import errors, replayed
from web.request_models import Body, Report, service_item_field
from web.request_types import IdempotencyKey, SafeLine, VisibleLine

router = APIRouter(prefix="/api/v1", tags=["alerts"])

# "cap" is the CAP adapter's own (POST /api/v1/cap): an alert cannot claim to be a warning feed's message;
# "petition" is registered by petition staff (POST /api/v1/petitions), with its steps and sensitive petitioner.
Channel = Literal[tuple(c for c in CHANNELS if c not in ("cap", "petition"))]  # type: ignore[valid-type]


class Reporter(Body):
    name: VisibleLine | None = Field(None, min_length=1, max_length=100)
    phone: SafeLine | None = Field(None, min_length=3, max_length=32)


class AlertBody(Report):
    channel: Channel
    reporter: Reporter | None = None
    external_id: SafeLine | None = Field(None, min_length=1, max_length=128,
                                         description="the sender's own id: unique per channel for this caller")
    service_item: SafeLine | None = service_item_field()


@router.post("/alerts", status_code=201, responses=replayed() | errors(409))
async def post_alert(body: AlertBody, response: Response, principal: OperatorOrWorker,
                     session: SessionDep, redis: RedisDep, settings: SettingsDep,
                     idempotency_key: Annotated[IdempotencyKey | None, Header(alias="Idempotency-Key")] = None) -> dict:
    """201 with the new incident, its region chain (top-down) and the orders created; a retry with the same
    external_id (per channel) or Idempotency-Key answers 200 with the same incident (`replayed: true`)."""
    if principal.role == "worker" and body.channel != "patrol":
        raise Forbidden("grid workers report through the patrol channel")
    reporter = body.reporter or Reporter()
    item = await item_of_request(session, body.service_item, category=body.category)
    result = await submit_alert(
        session, redis, settings=settings, idempotency_key=idempotency_key, key_scope=f"u{principal.user_id}",
        actor=Actor(principal.username, principal.user_id),
        alert=AlertIn(category=body.category, description=body.description, lon=body.lon, lat=body.lat,
                      channel=body.channel, crs=body.crs.value, priority=body.priority,
                      reporter_name=reporter.name, reporter_phone=reporter.phone, external_id=body.external_id,
                      service_item_code=item.code if item else None),
    )
    outside = not region_in_scope(principal, result.incident.region_path)
    if not result.created and principal.role != "worker" and outside:
        # The caller's own earlier report (keys and external ids are per caller), but no longer in their region.
        raise Conflict("this external_id / Idempotency-Key was already used, for an incident outside your region",
                       details={"field": "external_id" if body.external_id is not None else "Idempotency-Key"})
    if not result.created:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    return {**incident_summary(result.incident), "replayed": not result.created,
            "region_chain": result.region_chain, "orders": [order_summary(o) for o in result.orders]}
