"""Open311 GeoReport v2, inbound: a client application's service request becomes an incident through the one
intake (command.intake.intake.submit_alert: located and dispatched like any alert), with its Open311 side (token,
address, contact, attributes) kept beside it in `open311_requests`. Reads: command.intake.channels.open311_reads.

Location: `lat`+`long` (WGS-84, as the spec says), or an `address_string` that names a region (community, grid…;
the deepest named one wins), placed at that region's representative point. No street geocoder is used."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field

from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from command.core.errors import Conflict, InvalidInput
from command.core.events import Actor
from command.core.models import Incident, Open311Client, Open311Request
from command.core.settings import Settings
from command.intake.channels.open311_services import read_attributes, service
from command.intake.intake import AlertIn, submit_alert

CHANNEL = "app"  # city apps: the same channel as the resident's own app
MAX_FIELD = 128
MAX_ADDRESS = 500
MAX_URL = 2000
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,189}$")
URL = re.compile(r"^https?://[^\s]+$")


@dataclass(frozen=True, slots=True)
class ServiceRequestIn:
    service_code: str
    lat: float | None = None
    long: float | None = None
    address_string: str | None = None
    address_id: str | None = None
    zipcode: str | None = None
    description: str | None = None
    email: str | None = None
    device_id: str | None = None
    account_id: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    media_url: str | None = None
    jurisdiction_id: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Filed:
    incident: Incident
    token: str
    created: bool = True  # False: a retry with the same Idempotency-Key, answered with the first request


def _bad(name: str, message: str) -> InvalidInput:
    return InvalidInput(message, details=[{"field": name, "reason": message}])


def jurisdictions(settings: Settings) -> list[str]:
    return [c.strip() for c in settings.open311_jurisdictions.split(",") if c.strip()]


def check_jurisdiction(settings: Settings, jurisdiction_id: str | None) -> str | None:
    """The jurisdiction a call is about: None when one is served (the parameter is then ignored)."""
    served = jurisdictions(settings)
    if not served:
        return None
    if not jurisdiction_id:
        raise _bad("jurisdiction_id", f"jurisdiction_id is required: one of {', '.join(served)}")
    if jurisdiction_id not in served:
        raise _bad("jurisdiction_id", f"unknown jurisdiction_id {jurisdiction_id!r}; one of {', '.join(served)}")
    return jurisdiction_id


_BY_NAME = text("""
SELECT ST_X(p), ST_Y(p) FROM (
  SELECT ST_PointOnSurface(geom) AS p FROM regions
   WHERE strpos(:address, name) > 0
   ORDER BY depth DESC, length(name) DESC, code
   LIMIT 1) AS named
""")


async def place_of_address(session: AsyncSession, address: str) -> tuple[float, float]:
    """(lon, lat) inside the deepest region the address names, or InvalidInput."""
    row = (await session.execute(_BY_NAME, {"address": address})).first()
    if row is None:
        raise _bad("address_string", "address_string names no known region (community, grid…); send lat and long")
    return float(row[0]), float(row[1])


def _check_contact(req: ServiceRequestIn) -> None:
    for name in ("address_id", "zipcode", "device_id", "account_id", "first_name", "last_name"):
        value = getattr(req, name)
        if value is not None and len(value) > MAX_FIELD:
            raise _bad(name, f"{name} longer than {MAX_FIELD} characters")
    if req.address_string is not None and len(req.address_string) > MAX_ADDRESS:
        raise _bad("address_string", f"address_string longer than {MAX_ADDRESS} characters")
    if req.email and not EMAIL.match(req.email):
        raise _bad("email", "email is not an e-mail address")
    if req.media_url and (len(req.media_url) > MAX_URL or not URL.match(req.media_url)):
        raise _bad("media_url", f"media_url must be an http(s) URL of at most {MAX_URL} characters")


async def _where(session: AsyncSession, req: ServiceRequestIn) -> tuple[float, float]:
    if req.lat is not None and req.long is not None:
        return req.long, req.lat
    if (req.lat is None) != (req.long is None):
        raise _bad("lat/long", "lat and long go together: send both")
    if req.address_string and req.address_string.strip():
        return await place_of_address(session, req.address_string.strip())
    if req.address_id:
        raise _bad("address_id", "address_id is not supported here: send lat and long, or address_string")
    raise _bad("location", "a location is required: lat and long, or address_string")


async def file_request(session: AsyncSession, redis: Redis, *, client: Open311Client, req: ServiceRequestIn,
                       settings: Settings, idempotency_key: str | None = None) -> Filed:
    """Store, locate and dispatch one Open311 request. Any refusal raises before the caller commits: nothing
    is stored. A retry with the client's same Idempotency-Key (optional; not in the spec) gets the first request."""
    jurisdiction = check_jurisdiction(settings, req.jurisdiction_id)
    svc = await service(session, req.service_code)
    if svc is None:
        raise _bad("service_code", f"service_code {req.service_code!r} not found")
    attributes = read_attributes(svc, req.attributes)
    _check_contact(req)
    lon, lat = await _where(session, req)
    name = " ".join(p.strip() for p in (req.first_name, req.last_name) if p and p.strip()) or None
    description = (req.description or "").strip() or svc.service_name
    submitted = await submit_alert(
        session, redis, settings=settings, key_scope=f"open311:{client.id}", idempotency_key=idempotency_key,
        actor=Actor.system(f"open311:{client.name}"[:60]),
        alert=AlertIn(category=svc.service_code, description=description, lon=lon, lat=lat, channel=CHANNEL,
                      priority=int(attributes["priority"]) if "priority" in attributes else None,
                      reporter_name=name, reporter_phone=(req.phone or "").strip() or None))
    incident = submitted.incident
    if not submitted.created:
        first = await session.get(Open311Request, incident.id)
        if first is None:  # cannot happen: the key is scoped to this client's Open311 requests
            raise Conflict("this Idempotency-Key was already used for something else")
        return Filed(incident=incident, token=first.token, created=False)
    if jurisdiction is not None and jurisdiction not in (incident.region_path or []):
        # Raising rolls the whole intake back (the request's transaction): nothing is stored.
        raise _bad("location", f"the location is outside jurisdiction {jurisdiction}")
    token = secrets.token_urlsafe(16)
    session.add(Open311Request(
        incident_id=incident.id, client_id=client.id, token=token, jurisdiction_id=jurisdiction,
        address_string=(req.address_string or "").strip() or None, address_id=req.address_id or None,
        zipcode=req.zipcode or None, email=req.email or None, device_id=req.device_id or None,
        account_id=req.account_id or None, media_url=req.media_url or None, attributes=attributes))
    await session.flush()
    return Filed(incident=incident, token=token)
