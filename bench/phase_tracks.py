"""Track writes beside dispatch (issue 16's target): one half of the phase with the web processes started with
`GRIDCMD_TRACK_WRITES=false`, one with track writes on (the run restarts the processes between halves; bench.run).
In each half, at the same time and for the same seconds:
- worker sockets send {"type":"position"} frames paced at a fixed rate (not as fast as they can: both halves offer
  the same load), from a process of their own (bench.position_flood);
- alerts at a light fixed rate through the whole path (intake, locate, dispatch, the worker's socket): the
  dispatch latency;
- the visibility probe of the positions phase (bench.position_probe): a fresh spot to a GEOSEARCH finding it.
With writes on, the rows the senders' frames left in `worker_positions` are counted until all are there (or
GIVE_UP_S): positions persisted per second is rows over the time from the first frame to the last row written.
`compare` puts the halves side by side: the target is ≥ 20,000 persisted per second with dispatch p99 and
visibility p99 within 10% of the half without writes."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import orjson
from redis.asyncio import Redis
from sqlalchemy import text

from bench import phase_positions
from bench.stats import summary

GIVE_UP_S = 30.0
SETTLE_S = 3.0  # after the senders' sockets open, before anything is timed
WITHIN = 1.10  # "within 10%" of the half without track writes


async def _start_flood(sockets: list[tuple[str, str, int]], box: tuple[float, float, float, float], *,
                       rate: float, seconds: float) -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.position_flood", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(orjson.dumps({"sockets": sockets, "box": box, "rate": rate, "seconds": seconds}) + b"\n")
    await proc.stdin.drain()
    line = await asyncio.wait_for(proc.stdout.readline(), 120)
    if line.strip() != b"ready":
        proc.kill()
        raise RuntimeError(f"position senders did not start: {line!r}")
    return proc


async def _flood(proc: asyncio.subprocess.Process) -> dict:
    """Start the senders; their result as soon as the last frame is out (the process then closes its sockets)."""
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(b"go\n")
    await proc.stdin.drain()
    line = await proc.stdout.readline()
    if not line.strip():
        raise RuntimeError(f"position senders failed ({await proc.wait()})")
    return orjson.loads(line)


async def half(redis: Redis, engine, sockets: list[tuple[str, str, int]], probe: tuple[str, str, int, str],
               box: tuple[float, float, float, float], dispatch: Callable[[], Awaitable[dict]], *, rate: float,
               seconds: float, writes: bool) -> dict:
    """One half: paced positions (bench.position_flood, over `sockets`: (base URL, token, worker id)), alerts
    (`dispatch`) and the probe at once; then the rows persisted (writes on) or kept (writes off: none)."""
    since = datetime.fromtimestamp(time.time() - 1, UTC)
    flood = await _start_flood(sockets, box, rate=rate, seconds=seconds)
    proc = await phase_positions.start_probe(*probe, box)
    await asyncio.sleep(SETTLE_S)
    try:
        started = time.perf_counter()
        positions, alerts = await asyncio.gather(_flood(flood), dispatch())
        last_ts = {int(w): t for w, t in positions.pop("last_ts").items()}
        applied_at = await phase_positions.wait_applied(redis, last_ts)
    finally:
        probed = await phase_positions.stop_probe(proc)
        try:
            await asyncio.wait_for(flood.wait(), 30)
        except TimeoutError:
            flood.kill()
    positions["all_applied"] = applied_at is not None
    positions["applied_per_s"] = round(positions["frames_sent"] / ((applied_at or time.perf_counter()) - started), 1)
    vis = summary(probed["samples_s"], positions["send_seconds"])
    vis["over_1s"] = sum(1 for x in probed["samples_s"] if x > phase_positions.VISIBLE_WITHIN_S) + probed["missed"]
    out = {"track_writes": writes, "positions": positions, "visibility": vis, "dispatch": alerts}
    senders = [w for _, _, w in sockets]
    if writes:
        out["persisted"] = await _persisted(engine, senders, since, positions["frames_sent"], started)
        # How long after the last frame went out the last row was in: the writer keeping up (≈ one flush interval).
        out["persisted"]["after_last_frame_s"] = round(out["persisted"]["seconds"] - positions["send_seconds"], 3)
    else:
        await asyncio.sleep(1.5)  # longer than a flush interval: a writer that ran anyway would have written
        out["rows_kept"] = await _rows(engine, senders, since)
    return out


async def _rows(engine, worker_ids: list[int], since: datetime) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text(
            "SELECT count(*) FROM worker_positions WHERE worker_id = ANY(:ids) AND ts >= :since"),
            {"ids": worker_ids, "since": since})).scalar_one())


async def _persisted(engine, worker_ids: list[int], since: datetime, expected: int, started: float) -> dict:
    """Count the senders' track rows since the half began until all `expected` are there (or GIVE_UP_S)."""
    deadline = time.perf_counter() + GIVE_UP_S
    while True:
        rows = await _rows(engine, worker_ids, since)
        done = time.perf_counter()
        if rows >= expected or done > deadline:
            break
        await asyncio.sleep(0.1)
    wall = done - started
    return {"rows": rows, "expected": expected, "all": rows >= expected, "seconds": round(wall, 3),
            "per_s": round(rows / wall, 1) if wall > 0 else 0.0}


def compare(off: dict | None, on: dict | None) -> dict | None:
    """The halves side by side, and the target judged."""
    if not off or not on:
        return None

    def p99(h: dict, path: tuple[str, ...]) -> float | None:
        v: object = h
        for k in path:
            v = v.get(k) if isinstance(v, dict) else None
        return v if isinstance(v, int | float) else None

    out: dict = {}
    for name, path in (("dispatch_worker_p99_ms", ("dispatch", "to_worker", "p99_ms")),
                       ("visibility_p99_ms", ("visibility", "p99_ms"))):
        a, b = p99(off, path), p99(on, path)
        out[name] = {"without": a, "with": b, "ratio": round(b / a, 3) if a and b is not None else None}
    persisted = (on.get("persisted") or {}).get("per_s")
    out["persisted_per_s"] = persisted
    ratios = [v["ratio"] for k, v in out.items() if isinstance(v, dict)]
    out["met"] = (persisted is not None and persisted >= 20_000 and bool((on.get("persisted") or {}).get("all"))
                  and all(r is not None and r <= WITHIN for r in ratios))
    return out
