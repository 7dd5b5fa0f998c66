"""The resident's tracking link: incident public_id + a token derived from it with the server key
(HMAC, so nothing is stored and C1's intake can hand it out). The view shows nothing private: no
names, phones, description or assignees — only the category, status and the status timeline."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from command.core.errors import NotFound
from command.core.models import Callback, Category, Event, Incident
from command.orders.callbacks import RATEABLE


def tracking_page(public_id: uuid.UUID | str, token: str) -> str:
    """The link a resident opens. The token rides in the #fragment, which browsers never send: it reaches no
    server log; the page reads it and sends it to the API in a header (web/api/track.py)."""
    return f"/r/t/{public_id}#k={token}"


def tracking_token(secret_key: str, public_id: uuid.UUID | str) -> str:
    mac = hmac.new(secret_key.encode(), f"track:{public_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:16]).decode().rstrip("=")


async def incident_for_token(session: AsyncSession, *, secret_key: str, public_id: str, token: str) -> Incident:
    """The incident, or NotFound — the same answer for an unknown id and a wrong token (no probing)."""
    try:
        key = uuid.UUID(public_id)
    except ValueError as exc:
        raise NotFound("no such tracking link") from exc
    if not token or not hmac.compare_digest(tracking_token(secret_key, key), token):
        raise NotFound("no such tracking link")
    incident = await session.scalar(select(Incident).where(Incident.public_id == key))
    if incident is None:
        raise NotFound("no such tracking link")
    return incident


async def public_view(session: AsyncSession, incident: Incident) -> dict[str, Any]:
    category = await session.get(Category, incident.category_code)
    steps = (await session.execute(
        select(Event.to_state, Event.created_at)
        .where(Event.incident_id == incident.id, Event.kind.like("incident.%"), Event.to_state.is_not(None))
        .order_by(Event.id)
    )).all()
    rating = await session.scalar(
        select(Callback.rating).where(Callback.incident_id == incident.id).order_by(Callback.id.desc()).limit(1))
    rated_now = await session.scalar(select(Callback.id).where(
        Callback.incident_id == incident.id, Callback.via == "link",
        Callback.created_at >= incident.resolved_at)) if incident.resolved_at else None
    return {
        "public_id": str(incident.public_id),
        "category": {"code": incident.category_code, "name_zh": category.name_zh if category else None,
                     "name_en": category.name_en if category else None},
        "status": incident.status,
        "created_at": incident.created_at.isoformat(),
        "resolved_at": incident.resolved_at.isoformat() if incident.resolved_at else None,
        "timeline": [{"status": s, "at": at.isoformat()} for s, at in steps],
        "rating": rating,
        "can_rate": incident.status in RATEABLE and rated_now is None,
    }
