"""The one shape of an incident and of an order that every event payload and API answer uses.

Screens render from these without refetching (docs/dispatch.md lists the fields)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from command.core.models import Incident, Order


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def incident_summary(incident: Incident) -> dict[str, Any]:
    return {
        "id": incident.id,
        "public_id": str(incident.public_id),
        "category_code": incident.category_code,
        "priority": incident.priority,
        "status": incident.status,
        "channel": incident.channel,
        "lon": incident.lon,
        "lat": incident.lat,
        "region_code": incident.region_code,
        "region_path": list(incident.region_path or []),
        "description": incident.description,
        "created_at": iso(incident.created_at),
        "attention_reason": incident.attention_reason,
    }


def order_summary(order: Order) -> dict[str, Any]:
    return {
        "id": order.id,
        "incident_id": order.incident_id,
        "assignee_kind": order.assignee_kind,
        "worker_id": order.worker_id,
        "department_code": order.department_code,
        "role": order.role,
        "status": order.status,
        "distance_m": round(order.distance_m, 1) if order.distance_m is not None else None,
        "ack_due_at": iso(order.ack_due_at),
    }


def incident_payload(incident: Incident) -> dict[str, Any]:
    """Payload of an incident event."""
    return {"incident": incident_summary(incident)}


def order_payload(order: Order, incident: Incident | None = None) -> dict[str, Any]:
    """Payload of an order event (the incident too, so a worker's phone can show what the order is about)."""
    out: dict[str, Any] = {"order": order_summary(order)}
    if incident is not None:
        out["incident"] = incident_summary(incident)
    return out
