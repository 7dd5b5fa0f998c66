"""Position ingest: workers' sockets send {"type":"position"} frames as fast as they can (bounded in count and
time); the rate counts frames the server has applied (the last frame of every sender visible in Redis), not frames
merely written to a socket. Meanwhile a probe worker moves to a fresh spot every PROBE_EVERY_S and the time until
a GEOSEARCH there (what the next dispatch runs) finds it is the visibility latency."""

from __future__ import annotations

import asyncio
import time

import numpy as np
from redis.asyncio import Redis

from bench.stats import summary
from bench.wsclient import Receiver
from dispatch import keys

PROBE_EVERY_S = 0.05
PROBE_RADIUS_M = 25.0
VISIBLE_WITHIN_S = 1.0
GIVE_UP_S = 30.0


async def run(redis: Redis, senders: dict[int, Receiver], probe: tuple[int, Receiver],
              box: tuple[float, float, float, float], *, total: int, seconds: float) -> dict:
    rng = np.random.default_rng(5)
    per = max(1, total // len(senders))
    start = time.perf_counter()
    deadline = start + seconds
    last_ts: dict[int, float] = {}
    sent = 0

    async def sender(wid: int, rx: Receiver) -> None:
        nonlocal sent
        pts = rng.uniform(box[:2], box[2:], (per, 2)).round(6).tolist()
        for j, (lon, lat) in enumerate(pts):
            if time.perf_counter() >= deadline:
                break
            ts = round(time.time(), 3)
            if j == per - 1 or time.perf_counter() + 0.01 >= deadline:
                ts = max(ts, last_ts.get(wid, 0.0) + 0.002)  # the last frame must be strictly newest
            last_ts[wid] = ts
            await rx.ws.send(f'{{"type":"position","lon":{lon},"lat":{lat},"ts":{ts}}}')
            sent += 1

    stop_probe = asyncio.Event()
    probe_lat: list[float] = []
    probe_missed = 0

    async def prober() -> None:
        nonlocal probe_missed
        wid, rx = probe
        while not stop_probe.is_set():
            lon, lat = rng.uniform(box[:2], box[2:]).round(6).tolist()
            t0 = time.perf_counter()
            await rx.ws.send(f'{{"type":"position","lon":{lon},"lat":{lat}}}')
            while True:
                hits = await redis.geosearch(keys.POSITIONS, longitude=lon, latitude=lat, radius=PROBE_RADIUS_M,
                                             unit="m")
                if str(wid) in hits:
                    probe_lat.append(time.perf_counter() - t0)
                    break
                if time.perf_counter() - t0 > GIVE_UP_S:
                    probe_missed += 1
                    break
                await asyncio.sleep(0.001)
            await asyncio.sleep(PROBE_EVERY_S)

    probe_task = asyncio.create_task(prober())
    await asyncio.gather(*(sender(w, rx) for w, rx in senders.items()))
    sent_wall = time.perf_counter() - start
    applied_at = await _wait_applied(redis, last_ts)
    stop_probe.set()
    await probe_task
    wall = (applied_at or time.perf_counter()) - start
    vis = summary(probe_lat, wall)
    vis["over_1s"] = sum(1 for x in probe_lat if x > VISIBLE_WITHIN_S) + probe_missed
    return {"frames_sent": sent, "senders": len(senders), "send_seconds": round(sent_wall, 3),
            "applied_seconds": round(wall, 3), "all_applied": applied_at is not None,
            "per_s": round(sent / wall, 1) if wall > 0 else 0.0, "visibility": vis}


async def _wait_applied(redis: Redis, last_ts: dict[int, float]) -> float | None:
    """When every sender's last frame is in Redis (presence holds its report time), or None on giving up."""
    ids = list(last_ts)
    deadline = time.perf_counter() + GIVE_UP_S
    while time.perf_counter() < deadline:
        seen = await redis.zmscore(keys.SEEN, [str(w) for w in ids])
        if all(s is not None and s >= last_ts[w] - 5e-4 for w, s in zip(ids, seen, strict=True)):
            return time.perf_counter()
        await asyncio.sleep(0.005)
    return None
