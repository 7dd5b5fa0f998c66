"""China's map datums at the edge: WGS-84 (GPS) ↔ GCJ-02 (AMap, Tencent, WeChat) ↔ BD-09 (Baidu).

Inside the system every coordinate is WGS-84 (EPSG:4326). Points that arrive in GCJ-02 or BD-09 are converted
on the way in with `to_wgs84`, and `from_wgs84` converts on the way out for clients that draw on those maps.

The forward transforms are the published ones (the GCJ-02 obfuscation polynomial on the Krasovsky 1940
ellipsoid, and Baidu's BD-09 offset on top of GCJ-02) as used by coordtransform, eviltransform and gcoord.
Neither has a published closed-form inverse, so GCJ-02 → WGS-84 and BD-09 → GCJ-02 are solved by
fixed-point iteration on the forward transform until the residual is below 1e-9 degrees (~0.1 mm): the
one-step "subtract the offset" approximation many libraries ship is off by up to a few metres.

"In China" is the customary rectangle (lon 72.004–137.8347, lat 0.8293–55.8271) those libraries use;
outside it GCJ-02 equals WGS-84 and points pass unshifted (BD-09's offset still applies, as Baidu does).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable

# Krasovsky 1940: semi-major axis and first eccentricity squared, as the GCJ-02 algorithm defines them.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0
_TOLERANCE_DEG = 1e-9
_MAX_ITER = 30


class Crs(enum.StrEnum):
    wgs84 = "wgs84"
    gcj02 = "gcj02"
    bd09 = "bd09"


CRS_NAMES = frozenset(c.value for c in Crs)


def out_of_china(lon: float, lat: float) -> bool:
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _transform_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def _gcj_delta(lon: float, lat: float) -> tuple[float, float]:
    dlat = _transform_lat(lon - 105.0, lat - 35.0)
    dlon = _transform_lon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(radlat) ** 2
    sqrtmagic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * math.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * math.cos(radlat) * math.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    if out_of_china(lon, lat):
        return lon, lat
    dlon, dlat = _gcj_delta(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_bd09(lon: float, lat: float) -> tuple[float, float]:
    z = math.sqrt(lon * lon + lat * lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * _X_PI)
    return z * math.cos(theta) + 0.0065, z * math.sin(theta) + 0.006


def _bd09_to_gcj02_approx(lon: float, lat: float) -> tuple[float, float]:
    """Baidu's published closed-form inverse; a good first guess, ~1e-6° off."""
    x, y = lon - 0.0065, lat - 0.006
    z = math.sqrt(x * x + y * y) - 0.00002 * math.sin(y * _X_PI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * _X_PI)
    return z * math.cos(theta), z * math.sin(theta)


_Forward = Callable[[float, float], tuple[float, float]]


def _invert(forward: _Forward, lon: float, lat: float, guess: tuple[float, float]) -> tuple[float, float]:
    """Solve forward(p) = (lon, lat) by fixed-point iteration: the offsets vary slowly, so p -= forward(p) - target
    converges geometrically (several orders of magnitude per step)."""
    x, y = guess
    for _ in range(_MAX_ITER):
        fx, fy = forward(x, y)
        ex, ey = fx - lon, fy - lat
        if abs(ex) < _TOLERANCE_DEG and abs(ey) < _TOLERANCE_DEG:
            break
        x, y = x - ex, y - ey
    return x, y


def gcj02_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    if out_of_china(lon, lat):
        return lon, lat
    return _invert(wgs84_to_gcj02, lon, lat, (lon, lat))


def bd09_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    return _invert(gcj02_to_bd09, lon, lat, _bd09_to_gcj02_approx(lon, lat))


def to_wgs84(lon: float, lat: float, crs: Crs | str) -> tuple[float, float]:
    """A point given in `crs` → WGS-84 (lon, lat)."""
    if crs == Crs.wgs84:  # the common case, without an enum lookup
        return lon, lat
    crs = Crs(crs)
    if crs is Crs.gcj02:
        return gcj02_to_wgs84(lon, lat)
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def from_wgs84(lon: float, lat: float, crs: Crs | str) -> tuple[float, float]:
    """A WGS-84 point → (lon, lat) in `crs`."""
    crs = Crs(crs)
    if crs is Crs.wgs84:
        return lon, lat
    gcj = wgs84_to_gcj02(lon, lat)
    return gcj if crs is Crs.gcj02 else gcj02_to_bd09(*gcj)
