"""The position-visibility probe, in a process of its own: `python -m bench.position_probe URL TOKEN WORKER_ID
REDIS_URL WEST SOUTH EAST NORTH`.

A worker's phone on its own WebSocket moves to a fresh spot every PROBE_EVERY_S; the time from sending the frame to
a GEOSEARCH at that spot (what the next dispatch runs) finding the worker is one visibility sample. It runs apart
from the driver that floods the server with position frames, so the sample measures the server and Redis, not how
long the flooding driver's event loop took to get round to the probe. Stops when stdin closes; prints its samples
as one JSON object on stdout."""

from __future__ import annotations

import asyncio
import sys
import time

import numpy as np
import orjson
from redis.asyncio import Redis

from bench.wsclient import Receiver, open_receiver
from dispatch import keys

PROBE_EVERY_S = 0.05
PROBE_RADIUS_M = 25.0
GIVE_UP_S = 30.0


async def probe(rx: Receiver, redis: Redis, worker_id: int, box: tuple[float, float, float, float],
                stop: asyncio.Event) -> dict:
    rng = np.random.default_rng(5)
    samples: list[float] = []
    sent_at: list[float] = []  # when each sample's frame was sent, seconds since the probe started
    began = time.perf_counter()
    missed = 0
    try:
        while not stop.is_set():
            lon, lat = rng.uniform(box[:2], box[2:]).round(6).tolist()
            t0 = time.perf_counter()
            await rx.ws.send(f'{{"type":"position","lon":{lon},"lat":{lat}}}')
            while True:
                hits = await redis.geosearch(keys.POSITIONS, longitude=lon, latitude=lat, radius=PROBE_RADIUS_M,
                                             unit="m")
                if str(worker_id) in hits:
                    samples.append(time.perf_counter() - t0)
                    sent_at.append(t0 - began)
                    break
                if time.perf_counter() - t0 > GIVE_UP_S:
                    missed += 1
                    break
                await asyncio.sleep(0.001)
            await asyncio.sleep(PROBE_EVERY_S)
    finally:
        await rx.close()
    return {"samples_s": samples, "sent_at_s": sent_at, "missed": missed, "receiver_errors": rx.errors}


async def _main(argv: list[str]) -> None:
    url, token, wid, redis_url = argv[0], argv[1], int(argv[2]), argv[3]
    box = tuple(float(x) for x in argv[4:8])
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    # Stop when the driver closes our stdin (read in a thread: stdin is not a socket).
    loop.run_in_executor(None, sys.stdin.read).add_done_callback(lambda _: loop.call_soon_threadsafe(stop.set))
    redis = Redis.from_url(redis_url, decode_responses=True)
    rx = await open_receiver(url, token, name=f"probe-w{wid}", subscribe=True)
    print("ready", flush=True)
    try:
        out = await probe(rx, redis, wid, box, stop)  # type: ignore[arg-type]
    finally:
        await redis.aclose()
    sys.stdout.write(orjson.dumps(out).decode() + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    asyncio.run(_main(sys.argv[1:]))
