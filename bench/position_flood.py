"""Paced position senders in a process of their own, for the tracks phase (bench.phase_tracks):
`python -m bench.position_flood` with one JSON object on stdin — {"sockets": [[url, token, worker_id], …],
"box": [w, s, e, n], "rate": frames/s, "seconds": s}.

It opens the workers' sockets, prints `ready`, waits for a line on stdin, sends, and prints its result as one JSON
line. Apart from the alert driver so that neither's bursts show up as the other's latency: the driver's event
loop times the alerts, this one only sends."""

from __future__ import annotations

import asyncio
import sys
import time

import numpy as np
import orjson

from bench.phase_positions import now_ms
from bench.wsclient import Receiver, close_all, open_many

BURST = 16  # frames a sender writes per wake-up


async def paced(senders: dict[int, Receiver], box: list[float], *, rate: float, seconds: float) -> dict:
    """`rate` frames per second in all over the senders for `seconds`; each sender's last frame strictly newest."""
    rng = np.random.default_rng(11)
    every = BURST * len(senders) / rate  # seconds between one sender's bursts
    start = time.perf_counter()
    last_ts: dict[int, float] = {}
    sent = 0
    late_s = 0.0  # how far behind its schedule a burst went out, at worst (this process falling behind)

    async def sender(k: int, wid: int, rx: Receiver) -> None:
        nonlocal sent, late_s
        due = start + every * k / len(senders)  # the senders spread over one interval, not all at once
        n_bursts = max(1, int(seconds / every))
        pts = rng.uniform(box[:2], box[2:], (n_bursts * BURST, 2)).round(6).tolist()
        for b in range(n_bursts):
            wait = due - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            else:
                late_s = max(late_s, -wait)
            for lon, lat in pts[b * BURST:(b + 1) * BURST]:
                ts = now_ms()
                if b == n_bursts - 1:
                    while ts <= last_ts.get(wid, 0.0):
                        await asyncio.sleep(0.001)
                        ts = now_ms()
                last_ts[wid] = max(ts, last_ts.get(wid, 0.0))
                await rx.ws.send(f'{{"type":"position","lon":{lon},"lat":{lat},"ts":{ts}}}')
                sent += 1
            due += every

    await asyncio.gather(*(sender(k, w, rx) for k, (w, rx) in enumerate(senders.items())))
    return {"frames_sent": sent, "send_seconds": round(time.perf_counter() - start, 3), "offered_per_s": rate,
            "senders": len(senders), "worst_burst_late_ms": round(late_s * 1000, 1),
            "last_ts": {str(w): t for w, t in last_ts.items()},
            "receiver_errors": sum(len(rx.errors) for rx in senders.values())}


async def _main() -> None:
    loop = asyncio.get_running_loop()
    spec = orjson.loads(await loop.run_in_executor(None, sys.stdin.readline))
    sockets = spec["sockets"]
    rx = await open_many([(url, token, f"flood-w{wid}", None, False) for url, token, wid in sockets])
    print("ready", flush=True)
    await loop.run_in_executor(None, sys.stdin.readline)
    try:
        out = await paced({int(wid): r for (_, _, wid), r in zip(sockets, rx, strict=True)}, spec["box"],
                          rate=spec["rate"], seconds=spec["seconds"])
        # Said before the sockets close (their closing handshakes are no part of the sending).
        sys.stdout.write(orjson.dumps(out).decode() + "\n")
        sys.stdout.flush()
    finally:
        await close_all(rx)


if __name__ == "__main__":
    asyncio.run(_main())
