"""Position ingest: workers' sockets send {"type":"position"} frames as fast as they can (bounded in count and
time); the rate counts frames the server has applied (the last frame of every sender visible in Redis), not frames
merely written to a socket. Meanwhile a probe worker, in a process of its own (bench.position_probe), moves to a
fresh spot every 50 ms and the time until a GEOSEARCH there (what the next dispatch runs) finds it is the
visibility latency.

Each sender yields to the event loop every YIELD_EVERY frames. Without that, a sender never suspends while its socket's
kernel buffer has room (its whole share fits), so the senders ran one after another and everything else in the
driver, the probe included when it lived here, waited for the whole burst (the ~11.7 s "probe" of earlier runs)."""

from __future__ import annotations

import asyncio
import math
import sys
import time

import numpy as np
import orjson
from redis.asyncio import Redis

from bench.stats import summary
from bench.wsclient import Receiver
from dispatch import keys

VISIBLE_WITHIN_S = 1.0
YIELD_EVERY = 16  # frames a sender writes before it lets the other senders have the event loop
GIVE_UP_S = 30.0


async def start_probe(url: str, token: str, worker_id: int, redis_url: str,
                      box: tuple[float, float, float, float]) -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.position_probe", url, token, str(worker_id), redis_url, *map(str, box),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    line = await asyncio.wait_for(proc.stdout.readline(), 30)  # type: ignore[union-attr]
    if line.strip() != b"ready":
        raise RuntimeError(f"position probe did not start: {line!r}")
    return proc


async def stop_probe(proc: asyncio.subprocess.Process) -> dict:
    out, _ = await asyncio.wait_for(proc.communicate(b""), 60)
    return orjson.loads(out.splitlines()[-1])


async def run(redis: Redis, senders: dict[int, Receiver], probe: tuple[str, str, int, str],
              box: tuple[float, float, float, float], *, total: int, seconds: float) -> dict:
    """probe: (base URL, token, worker id, Redis URL) of the probe worker, who must not be among the senders."""
    rng = np.random.default_rng(5)
    per = max(1, total // len(senders))
    proc = await start_probe(*probe, box)
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
            ts = now_ms()
            if j == per - 1 or time.perf_counter() + 0.01 >= deadline:
                # The last frame must be strictly newest, and not ahead of the clock: the server stores a time in
                # the future as its own now (dispatch.presence.newest), so a frame stamped 2 ms ahead and read
                # within those 2 ms was stored as older than it said and never counted as applied.
                while ts <= last_ts.get(wid, 0.0):
                    await asyncio.sleep(0.001)
                    ts = now_ms()
            last_ts[wid] = ts
            await rx.ws.send(f'{{"type":"position","lon":{lon},"lat":{lat},"ts":{ts}}}')
            sent += 1
            if j % YIELD_EVERY == YIELD_EVERY - 1:
                await asyncio.sleep(0)

    await asyncio.gather(*(sender(w, rx) for w, rx in senders.items()))
    sent_wall = time.perf_counter() - start
    applied_at = await wait_applied(redis, last_ts)
    missing = None if applied_at is not None else await _not_applied(redis, last_ts)
    probed = await stop_probe(proc)
    wall = (applied_at or time.perf_counter()) - start
    vis = summary(probed["samples_s"], wall)
    vis["over_1s"] = sum(1 for x in probed["samples_s"] if x > VISIBLE_WITHIN_S) + probed["missed"]
    vis["probe_errors"] = probed["receiver_errors"]
    # The slow ones and when they were sent (seconds after the probe started, which is just before the senders).
    vis["slowest"] = sorted(([round(t * 1000, 1), round(at, 2)] for t, at in
                             zip(probed["samples_s"], probed["sent_at_s"], strict=True)), reverse=True)[:5]
    return {"frames_sent": sent, "senders": len(senders), "send_seconds": round(sent_wall, 3),
            "applied_seconds": round(wall, 3), "all_applied": applied_at is not None,
            "per_s": round(sent / wall, 1) if wall > 0 else 0.0, "visibility": vis,
            **({"not_applied": missing} if missing is not None else {})}


async def _not_applied(redis: Redis, last_ts: dict[int, float]) -> dict[str, object]:
    """Which senders' last frames Redis does not have, and what it has instead (why a run gave up)."""
    ids = list(last_ts)
    seen = await redis.zmscore(keys.SEEN, [str(w) for w in ids])
    absent = [w for w, s in zip(ids, seen, strict=True) if s is None]
    older = {w: round(last_ts[w] - s, 4) for w, s in zip(ids, seen, strict=True)
             if s is not None and s < last_ts[w] - 5e-4}
    return {"absent": absent, "behind_s": older, "seen_size": await redis.zcard(keys.SEEN),
            "max_load_size": await redis.hlen(keys.MAX_LOAD)}


def now_ms() -> float:
    """This clock's time cut (not rounded) to the millisecond: never ahead of the server's clock."""
    return math.floor(time.time() * 1000) / 1000


async def wait_applied(redis: Redis, last_ts: dict[int, float]) -> float | None:
    """When every sender's last frame is in Redis (presence holds its report time), or None on giving up."""
    ids = list(last_ts)
    deadline = time.perf_counter() + GIVE_UP_S
    while time.perf_counter() < deadline:
        seen = await redis.zmscore(keys.SEEN, [str(w) for w in ids])
        if all(s is not None and s >= last_ts[w] - 5e-4 for w, s in zip(ids, seen, strict=True)):
            return time.perf_counter()
        await asyncio.sleep(0.005)
    return None
