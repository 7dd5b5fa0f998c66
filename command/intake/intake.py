"""One way in for every channel: validate → WGS-84 → locate → store (idempotently) → dispatch.

Counter, app, hotline, patrol, terminal and sensor reports, and every adapter (Open311, CAP, the resident
page), call `submit_alert`. Everything runs in the caller's transaction: the sender gets its answer only after
the commit, so an acknowledged alert is in PostgreSQL.

Idempotency: the sender's `external_id` (per channel) and Idempotency-Key are both unique within the sender's
`key_scope` ("u<user id>", "12345" for the platform link…), so a retry finds only the sender's own report: one
caller's key or id can neither replay nor conflict with another's, and a conflict never names the incident.
The insert is INSERT … ON CONFLICT DO NOTHING, so two concurrent retries cannot both create an incident: the loser
waits for the winner's transaction and then finds its row (returned as a replay, not a second incident). Retries
are rare, so there is no lookup before the insert: a replay costs a locate, a first attempt one round trip less."""

from __future__ import annotations

import logging
import math
import re
import uuid
from dataclasses import dataclass, field

from geoalchemy2 import WKBElement
from redis.asyncio import Redis
from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from command.assign.assignment import dispatch_incident, raise_attention
from command.assign.live import LIVE_LOCK_SHARED, live_lock_taken
from command.core import refdata
from command.core.attention import OUTSIDE, reason
from command.core.clock import utcnow
from command.core.errors import Conflict, InvalidInput
from command.core.events import Actor, batched
from command.core.lifecycle import IncidentStatus
from command.core.logctx import about_incident
from command.core.models import Incident, Order
from command.core.moves import move_incident, record
from command.core.routing import routing_rule
from command.core.settings import Settings
from command.core.summaries import incident_payload
from command.core.telemetry import ALERTS_RECEIVED
from command.intake.loop_intake import after_located
from geo.coords import CRS_NAMES, Crs, to_wgs84
from geo.locate import Located, locate
from geo.models import Region
from pgnative.orm import attach_loaded
from pgnative.statements import Native, Row

log = logging.getLogger(__name__)

CHANNELS = ("counter", "app", "hotline", "patrol", "terminal", "sensor", "cap", "petition")
MAX_DESCRIPTION = 2000
MAX_NAME = 100
MAX_KEY = 128
MAX_SCOPE = 64  # incidents.external_scope; "<scope>:<key>" fits incidents.idempotency_key (200)
PHONE = re.compile(r"^\+?[0-9][0-9 \-]{2,30}$")
KEY = re.compile(r"^[\x21-\x7e]{1,128}$")  # printable ASCII, no spaces


@dataclass(frozen=True, slots=True)
class AlertIn:
    category: str
    description: str
    lon: float
    lat: float
    channel: str
    crs: str = Crs.wgs84.value
    priority: int | None = None
    reporter_name: str | None = None
    reporter_phone: str | None = None
    external_id: str | None = None
    # A service counter (command.intake.counter): the catalogue item's type over the category's, and a 即办件
    # handled at the desk is not dispatched at all.
    item_type: str | None = None
    dispatch: bool = True
    service_item_code: str | None = None  # checked by the caller (command.intake.service_items)


@dataclass(slots=True)
class Submitted:
    incident: Incident
    created: bool  # False: a retry, answered with the incident the first attempt created
    region_chain: list[dict[str, str]] = field(default_factory=list)  # top-down
    orders: list[Order] = field(default_factory=list)


def _bad(field_name: str, message: str) -> InvalidInput:
    return InvalidInput(message, details=[{"field": field_name, "reason": message}])


def check_alert(alert: AlertIn, idempotency_key: str | None) -> None:
    """Everything that can be checked without the database."""
    if alert.channel not in CHANNELS:
        raise _bad("channel", f"unknown channel {alert.channel!r}; expected one of {', '.join(CHANNELS)}")
    if alert.crs not in CRS_NAMES:
        raise _bad("crs", f"unknown crs {alert.crs!r}; expected one of {', '.join(c.value for c in Crs)}")
    lon, lat = alert.lon, alert.lat
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise _bad("lon/lat", f"coordinates out of range: lon {lon}, lat {lat} (lon within ±180, lat within ±90)")
    description = (alert.description or "").strip()
    if not description:
        raise _bad("description", "description is empty")
    if len(description) > MAX_DESCRIPTION:
        raise _bad("description", f"description longer than {MAX_DESCRIPTION} characters")
    if alert.priority is not None and not 1 <= alert.priority <= 4:
        raise _bad("priority", "priority must be 1 (most urgent) to 4")
    if alert.reporter_name is not None and not 0 < len(alert.reporter_name.strip()) <= MAX_NAME:
        raise _bad("reporter.name", f"reporter name must be 1-{MAX_NAME} characters")
    if alert.reporter_phone is not None and not PHONE.match(alert.reporter_phone):
        raise _bad("reporter.phone", "reporter phone must be digits (optionally +, spaces, dashes), 3-32 long")
    if alert.external_id is not None and not 0 < len(alert.external_id) <= MAX_KEY:
        raise _bad("external_id", f"external_id must be 1-{MAX_KEY} characters")
    if idempotency_key is not None and not KEY.match(idempotency_key):
        raise _bad("Idempotency-Key", f"Idempotency-Key must be 1-{MAX_KEY} printable ASCII characters")


def stored_key(key_scope: str, idempotency_key: str | None) -> str | None:
    """The Idempotency-Key as stored with the incident: within its sender's scope."""
    return f"{key_scope}:{idempotency_key}" if idempotency_key is not None else None


async def region_chain(session: AsyncSession, path: list[str]) -> list[dict[str, str]]:
    """The regions of a path, top-down, as {code, name, level}."""
    if not path:
        return []
    rows = {r.code: r for r in await session.scalars(select(Region).where(Region.code.in_(path)))}
    return [{"code": c, "name": rows[c].name, "level": rows[c].level} for c in path if c in rows]


def _chain(located: Located) -> list[dict[str, str]]:
    return [r.as_dict() for r in reversed(located.chain)]


async def _replay(session: AsyncSession, alert: AlertIn, key: str | None, scope: str) -> Submitted:
    conds = []
    if alert.external_id is not None:
        conds.append(and_(Incident.channel == alert.channel, Incident.external_scope == scope,
                          Incident.external_id == alert.external_id))
    if key is not None:
        conds.append(Incident.idempotency_key == key)
    existing = await session.scalar(select(Incident).where(or_(*conds)).limit(1))
    if existing is None:  # the conflict was on something else (cannot happen but for a uuid collision)
        raise Conflict("the alert conflicts with an existing incident")
    if (existing.category_code, existing.description, existing.channel) != (
            alert.category, alert.description.strip(), alert.channel):
        # The sender's own earlier report, but not named: the answer is the same whoever asks.
        raise Conflict("this external_id / Idempotency-Key was already used for a different alert",
                       details={"field": "external_id" if alert.external_id is not None else "Idempotency-Key"})
    orders = list(await session.scalars(select(Order).where(Order.incident_id == existing.id).order_by(Order.id)))
    return Submitted(incident=existing, created=False, orders=orders,
                     region_chain=await region_chain(session, list(existing.region_path or [])))


# The incident's INSERT, native (SQLAlchemy's ORM-enabled INSERT … RETURNING cost more CPU than PostgreSQL does
# here). It also takes the shared live lock (command.assign.live) that the dispatch's claim needs: the INSERT is the
# intake's first row lock, and the lock must be held before any. ON CONFLICT DO NOTHING: see the module's doc.
# The deferred CAP area columns are not returned (written later by native SQL, never loaded with the row).
_INSERTED = tuple(c.name for c in Incident.__table__.columns if c.name not in ("geom", "area", "area_grids"))
_INSERT = Native(f"""
WITH live AS (SELECT {LIVE_LOCK_SHARED})
INSERT INTO incidents (public_id, category_code, description, priority, item_type, status, channel, lon, lat, geom,
                       region_code, region_path, reporter_name, reporter_phone, external_id, external_scope,
                       idempotency_key, created_by, created_at, updated_at, service_item_code)
SELECT CAST(:public_id AS uuid), CAST(:category_code AS varchar), CAST(:description AS text),
       CAST(:priority AS smallint), CAST(:item_type AS varchar), CAST(:status AS varchar), CAST(:channel AS varchar),
       CAST(:lon AS float8), CAST(:lat AS float8),
       ST_SetSRID(ST_MakePoint(CAST(:lon AS float8), CAST(:lat AS float8)), 4326),
       CAST(:region_code AS varchar), CAST(:region_path AS varchar[]), CAST(:reporter_name AS varchar),
       CAST(:reporter_phone AS varchar), CAST(:external_id AS varchar), CAST(:external_scope AS varchar),
       CAST(:idempotency_key AS varchar),
       CAST(:created_by AS integer), CAST(:created_at AS timestamptz), CAST(:updated_at AS timestamptz),
       CAST(:service_item_code AS varchar)
FROM live
ON CONFLICT DO NOTHING
RETURNING {", ".join(_INSERTED)}, ST_AsEWKB(geom)
""")


def _persistent(session: AsyncSession, row: Row) -> Incident:
    """The inserted row as an Incident in the session, as if loaded: later changes flush as UPDATEs."""
    values = dict(zip(_INSERTED, row, strict=False))
    values["geom"] = WKBElement(bytes(row[-1]), srid=4326, extended=True)
    return attach_loaded(session, Incident, values)


async def _rule_priority(session: AsyncSession, category_code: str, default: int, path: list[str],
                         settings: Settings) -> int:
    """An alert's priority when its sender named none: the routing rule's where it lies (the deepest region's rule,
    as for the rest of the rule), else the category's default."""
    rule = await routing_rule(session, category_code=category_code, region_path=path, settings=settings)
    return rule.priority or default


async def submit_alert(session: AsyncSession, redis: Redis, *, alert: AlertIn, actor: Actor, settings: Settings,
                       idempotency_key: str | None = None, key_scope: str = "") -> Submitted:
    """Store, locate and dispatch one report. A retry (the same external_id per channel, or the same
    Idempotency-Key, within `key_scope`: the sender) returns the first incident with created=False."""
    check_alert(alert, idempotency_key)
    if len(key_scope) > MAX_SCOPE:
        raise ValueError(f"key scope longer than {MAX_SCOPE} characters")  # a caller's bug, not input
    category = await refdata.category(session, alert.category)
    if category is None or not category.active:
        raise _bad("category", f"unknown or inactive category {alert.category!r}")
    key = stored_key(key_scope, idempotency_key)
    lon, lat = to_wgs84(alert.lon, alert.lat, alert.crs)
    located = await locate(session, lon=lon, lat=lat, tolerance_m=settings.locate_tolerance_m)
    priority = alert.priority or await _rule_priority(session, category.code, category.default_priority,
                                                      located.path, settings)
    now = utcnow()
    row = await _INSERT.fetchrow(
        session, public_id=uuid.uuid4(), category_code=category.code, description=alert.description.strip(),
        priority=priority, item_type=alert.item_type or category.item_type,
        status=IncidentStatus.reported.value, channel=alert.channel, lon=float(lon), lat=float(lat),
        region_code=located.region.code if located.region else None, region_path=located.path,
        reporter_name=alert.reporter_name.strip() if alert.reporter_name else None,
        reporter_phone=alert.reporter_phone, external_id=alert.external_id, external_scope=key_scope,
        idempotency_key=key,
        created_by=actor.user_id, created_at=now, updated_at=now, service_item_code=alert.service_item_code)
    live_lock_taken(session)  # by the INSERT, before its row lock (command.assign.live)
    if row is None:
        return await _replay(session, alert, key, key_scope)
    incident = _persistent(session, row)
    ALERTS_RECEIVED.labels(channel=alert.channel).inc()
    about_incident(incident.id)
    # Codes only: the description, the reporter's name and phone never go to the logs.
    log.info("alert stored", extra={"channel": alert.channel, "category": category.code,
                                    "region": incident.region_code})
    async with batched(session):  # the alert's events go out in one INSERT, not a flush each
        await record(session, incident=incident, actor=actor, kind="incident.created",
                     payload={**incident_payload(incident), "crs": alert.crs})
        outcome_orders = await locate_and_dispatch(session, redis, incident=incident, located=located,
                                                   settings=settings, actor=actor, dispatch=alert.dispatch)
    return Submitted(incident=incident, created=True, region_chain=_chain(located), orders=outcome_orders)


async def locate_and_dispatch(session: AsyncSession, redis: Redis, *, incident: Incident, settings: Settings,
                              actor: Actor, located: Located | None = None, dispatch: bool = True) -> list[Order]:
    """reported → located (or needs_attention outside every region) → dispatched / needs_attention.

    `located` may be given when the caller already located the point. Returns the orders created; none when
    the dispatch was deferred (live state missing, Redis down: the incident stays `located`)."""
    if incident.status == IncidentStatus.reported:
        if located is None:
            located = await locate(session, lon=incident.lon, lat=incident.lat,
                                   tolerance_m=settings.locate_tolerance_m)
            incident.region_code = located.region.code if located.region else None
            incident.region_path = located.path
        if located.region is None:
            await raise_attention(session, incident=incident, actor=actor, why=reason(
                OUTSIDE, f"({incident.lon:.6f}, {incident.lat:.6f}) is outside every region"))
            return []
        await move_incident(session, incident=incident, to=IncidentStatus.located, actor=actor,
                            kind="incident.located")
        # Closed loop (issue 4): a duplicate is linked, or merged (sensor) and not dispatched; deadlines set.
        if await after_located(session, incident=incident, settings=settings, actor=actor):
            return []
    if incident.status != IncidentStatus.located or not dispatch:
        return []
    outcome = await dispatch_incident(session, redis, incident=incident, settings=settings, actor=actor)
    return outcome.orders
