"""Worker positions from GPS apps: the OsmAnd protocol as the Traccar server accepts it, and the JSON body
Traccar Client sends (issue 17 item 4; docs/interop.md).

Query string (GET, or a form-encoded POST body), as Traccar's OsmAndProtocolDecoder reads it: `id` or `deviceid`,
`lat` + `lon` or `location=lat,lon`, `timestamp` (Unix seconds, milliseconds, ISO 8601, or "yyyy-MM-dd HH:mm:ss"
taken as UTC), `speed` (knots), `bearing`/`heading`, `altitude`, `accuracy`, `hdop`, `batt`, `charge`, `valid`.
JSON (Content-Type application/json, Traccar Client): `device_id`, `location.timestamp`,
`location.coords.{latitude, longitude, accuracy, speed (m/s), heading, altitude}`, `is_moving` and
`battery.{level (0..1), is_charging}` (in `location`, where Traccar Client puts them, or at the root).

A report resolves its device to the bound worker (command.assign.devices: 400 unknown_device otherwise), converts
from the device's datum to WGS-84 and goes through the worker's own position path (command.assign.workers: the same
checks, batcher and Redis script as /m). A report without a fix (lat = lon = 0, or `valid=false`) is answered 200
and moves no one, as Traccar keeps the last location."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis

from command.assign.devices import DeviceDirectory
from command.assign.workers import PositionIn, register_from_db, submit_worker_position
from command.core.errors import InvalidInput

INT_MAX = 2**31 - 1  # Traccar: a numeric timestamp below this is seconds, otherwise milliseconds
KNOTS_PER_MPS = 1.943844


@dataclass(frozen=True, slots=True)
class Fix:
    """One report, decoded (units as Traccar keeps them: speed in knots, battery in percent)."""

    device_id: str
    lat: float
    lon: float
    ts: datetime | None = None
    valid: bool = True
    speed_kn: float | None = None
    course: float | None = None
    altitude: float | None = None
    accuracy: float | None = None
    hdop: float | None = None
    battery: float | None = None
    charge: bool | None = None
    moving: bool | None = None

    @property
    def has_fix(self) -> bool:
        return self.valid and not (self.lat == 0 and self.lon == 0)


def _bad(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, details=[{"field": field, "reason": message}])


def _number(field: str, value: object) -> float:
    if isinstance(value, bool):
        raise _bad(field, f"{field} must be a number")
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise _bad(field, f"{field} must be a number, not {str(value)[:40]!r}") from None
    if not math.isfinite(number):
        raise _bad(field, f"{field} must be a finite number")
    return number


def _optional(field: str, value: object) -> float | None:
    return None if value is None or value == "" else _number(field, value)


def _flag(field: str, value: object) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise _bad(field, f"{field} must be true/false or 1/0")


def parse_timestamp(value: str) -> datetime:
    """Unix seconds or milliseconds (Traccar's rule: below 2^31-1 it is seconds), ISO 8601, or
    "yyyy-MM-dd HH:mm:ss" (UTC). A time without a zone is UTC."""
    text = value.strip()
    try:
        number = int(text)
    except ValueError:
        number = None
    if number is not None:
        seconds = number if number < INT_MAX else number / 1000
    else:
        try:
            seconds = float(text)
        except ValueError:
            seconds = None
    try:
        if seconds is not None:
            return datetime.fromtimestamp(seconds, UTC)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except (ValueError, OverflowError, OSError):
        raise _bad("timestamp", "timestamp must be Unix seconds or milliseconds, ISO 8601 or "
                                "'yyyy-MM-dd HH:mm:ss'") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _coords(lat: object, lon: object) -> tuple[float, float]:
    la, lo = _number("lat", lat), _number("lon", lon)
    if not (-90 <= la <= 90 and -180 <= lo <= 180):
        raise _bad("lat/lon", f"coordinates out of range: lat {la}, lon {lo}")
    return la, lo


def from_query(params: Mapping[str, str]) -> Fix:
    """A query-string report (the last value of a repeated parameter counts, as in Traccar)."""
    device_id = params.get("id") or params.get("deviceid")
    if not device_id:
        raise UnknownDeviceMissing()
    if "location" in params:
        parts = params["location"].split(",")
        if len(parts) != 2:
            raise _bad("location", "location must be 'lat,lon'")
        lat, lon = _coords(parts[0], parts[1])
    elif "lat" in params and "lon" in params:
        lat, lon = _coords(params["lat"], params["lon"])
    else:
        raise _bad("lat/lon", "a report needs lat and lon, or location=lat,lon")
    heading = params.get("bearing", params.get("heading"))
    valid = _flag("valid", params.get("valid"))
    return Fix(device_id=device_id, lat=lat, lon=lon,
               ts=parse_timestamp(params["timestamp"]) if params.get("timestamp") else None,
               valid=True if valid is None else valid,
               speed_kn=_optional("speed", params.get("speed")), course=_optional("bearing", heading),
               altitude=_optional("altitude", params.get("altitude")),
               accuracy=_optional("accuracy", params.get("accuracy")), hdop=_optional("hdop", params.get("hdop")),
               battery=_optional("batt", params.get("batt")), charge=_flag("charge", params.get("charge")))


def _object(value: object, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _bad(field, f"{field} must be an object")
    return value


def from_json(body: object) -> Fix:
    """Traccar Client's JSON body (see the module's doc)."""
    root = _object(body, "body")
    device_id = root.get("device_id")
    if not isinstance(device_id, str | int) or isinstance(device_id, bool) or device_id == "":
        raise UnknownDeviceMissing()
    location = _object(root.get("location"), "location")
    coords = _object(location.get("coords"), "location.coords")
    lat, lon = _coords(coords.get("latitude"), coords.get("longitude"))
    stamp = location.get("timestamp")
    if stamp is not None and not isinstance(stamp, str | int | float):
        raise _bad("location.timestamp", "location.timestamp must be ISO 8601 or a number")
    speed = _optional("location.coords.speed", coords.get("speed"))
    heading = _optional("location.coords.heading", coords.get("heading"))
    battery = location.get("battery", root.get("battery"))
    level = charging = None
    if battery is not None:
        battery = _object(battery, "battery")
        level = _optional("battery.level", battery.get("level"))
        charging = _flag("battery.is_charging", battery.get("is_charging"))
    return Fix(device_id=str(device_id), lat=lat, lon=lon,
               ts=parse_timestamp(str(stamp)) if stamp is not None else None,
               # The app sends -1 for "unknown" speed and heading.
               speed_kn=speed * KNOTS_PER_MPS if speed is not None and speed >= 0 else None,
               course=heading if heading is not None and heading >= 0 else None,
               altitude=_optional("location.coords.altitude", coords.get("altitude")),
               accuracy=_optional("location.coords.accuracy", coords.get("accuracy")),
               battery=level * 100 if level is not None and level >= 0 else None, charge=charging,
               moving=_flag("is_moving", location.get("is_moving", root.get("is_moving"))))


class UnknownDeviceMissing(InvalidInput):
    """No device id at all (Traccar answers 400 as for an unknown one; here a 422 that names the field)."""

    def __init__(self) -> None:
        super().__init__("a report needs its device id (id or deviceid; device_id in JSON)",
                         details=[{"field": "id"}])


async def report(directory: DeviceDirectory, redis: Redis, *, fix: Fix, now: float) -> bool:
    """Move the worker `fix.device_id` is bound to. Returns whether a position was stored (False: no fix, or a
    newer report already there). UnknownDevice (400) for an unbound id; InvalidInput as /m's path checks."""
    binding = await directory.resolve(fix.device_id)
    if not fix.has_fix:
        return False
    ts = fix.ts
    if ts is not None and ts.timestamp() > now:
        ts = None  # a phone clock ahead of ours: the report is current (newest() would clamp it to now anyway)
    position = PositionIn(lon=fix.lon, lat=fix.lat, crs=binding.datum, ts=ts)
    result = await submit_worker_position(redis, worker_id=binding.worker_id, positions=[position], now=now)
    if not result.registered:
        await register_from_db(directory.sessionmaker, redis, binding.worker_id)
    return result.stored
