"""Vector tiles: GET /tiles/regions/{z}/{x}/{y}.pbf for a province-wide view (every tile covering the province at
a wall display's zoom) and a zoomed view (street level in the densest city), through the web processes."""

from __future__ import annotations

import math
import random

from bench import http
from bench.runner import closed_loop
from bench.stats import summary


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 1 << z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)


def tiles_covering(bounds: tuple[float, float, float, float], z: int) -> list[tuple[int, int, int]]:
    minx, miny, maxx, maxy = bounds
    x0, y0 = tile_of(minx, maxy, z)
    x1, y1 = tile_of(maxx, miny, z)
    return [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]


def tiles_around(lon: float, lat: float, z: int, radius: int = 1) -> list[tuple[int, int, int]]:
    cx, cy = tile_of(lon, lat, z)
    return [(z, cx + dx, cy + dy) for dx in range(-radius, radius + 1) for dy in range(-radius, radius + 1)]


async def run(base_urls: list[str], token: str, tiles: list[tuple[int, int, int]], *, clients: int,
              seconds: float, max_count: int, seed: int) -> dict:
    rng = random.Random(seed)
    sizes: list[int] = []
    async with http.session(token, connections=clients, timeout_s=30.0) as client:
        async def call(i: int) -> None:
            z, x, y = tiles[i % len(tiles)] if i < len(tiles) else rng.choice(tiles)
            async with client.get(f"{base_urls[i % len(base_urls)]}/tiles/regions/{z}/{x}/{y}.pbf") as r:
                body = await r.read()
            if r.status not in (200, 204):
                raise RuntimeError(f"tile {z}/{x}/{y} → {r.status}: {body[:200]!r}")
            sizes.append(len(body))

        s = await closed_loop(call, clients=clients, seconds=seconds, max_count=max_count)
    out = summary(s.latencies, s.wall, errors=s.errors)
    out.update(tiles=len(tiles), zooms=sorted({t[0] for t in tiles}), clients=clients, first_error=s.first_error,
               mean_kib=round(sum(sizes) / len(sizes) / 1024, 1) if sizes else None,
               max_kib=round(max(sizes) / 1024, 1) if sizes else None)
    return out
