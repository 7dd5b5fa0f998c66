"""Who listens in the end-to-end phases (socket workers, a probe worker, their districts' wall displays), their
receivers, the run itself, and the checks after it: shared by the real app's phase and the floor's."""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import dataclass

import numpy as np
from redis.asyncio import Redis
from sqlalchemy import text

from bench import phase_e2e
from bench import setup as bsetup
from bench.scale import Scale
from bench.wsclient import Receiver, open_many
from command.core.lifecycle import ORDER_HOLDING
from command.core.settings import Settings
from dispatch import keys
from dispatch.presence import report_positions


@dataclass
class Audience:
    """Who listens in the end-to-end phases: socket workers (and one probe worker) and their districts' walls."""

    sock_ids: list[int]
    probe_id: int
    district: dict[int, str]  # worker id → district code
    tokens: dict[str, str]  # district code → a wall display's (operator's) token
    positions: np.ndarray  # the socket workers' positions, in sock_ids order
    worker_tokens: dict[int, str]  # worker id → its token (socket workers and the probe)

    @property
    def displays(self) -> list[str]:
        return sorted(self.tokens)


@dataclass
class Receivers:
    all: list[Receiver]
    workers: dict[int, Receiver]
    displays: dict[str, Receiver]
    opened: dict


async def make_audience(engine, settings: Settings, w: dict, scale: Scale, args: argparse.Namespace) -> Audience:
    rng = np.random.default_rng(args.seed + 7)
    ids = np.sort(rng.choice(len(w["lon"]), size=scale.socket_workers + 1, replace=False)) + 1
    sock_ids, probe_id = [int(i) for i in ids[:-1]], int(ids[-1])
    district = {wid: phase_e2e.district_of(str(w["grid_code"][wid - 1])) for wid in [*sock_ids, probe_id]}
    tokens = {dc: await bsetup.account(engine, settings, username=f"bench-wall-{dc}", role="operator",
                                       region_code=dc) for dc in sorted(set(district.values()))}
    pos = np.column_stack((w["lon"][np.array(sock_ids) - 1], w["lat"][np.array(sock_ids) - 1]))
    return Audience(sock_ids, probe_id, district, tokens, pos,
                    await bsetup.worker_tokens(engine, settings, [*sock_ids, probe_id]))


async def open_receivers(a: Audience, settings: Settings, urls: list[str]) -> Receivers:
    """A socket per worker and per district wall, spread over the processes (walls offset by one, so most
    alerts cross processes); waits a second for the subscriptions to settle."""
    print(f"opening {len(a.sock_ids)} worker sockets and {len(a.displays)} wall displays ...", flush=True)
    specs = [(urls[i % len(urls)], a.worker_tokens[wid], f"w{wid}", None, True)
             for i, wid in enumerate(a.sock_ids)]
    specs += [(urls[(i + 1) % len(urls)], a.tokens[dc], f"wall-{dc}", dc, True) for i, dc in enumerate(a.displays)]
    t0 = time.perf_counter()
    rx = await open_many(specs)
    opened = {"opened": len(rx), "seconds": round(time.perf_counter() - t0, 2)}
    worker_rx = {wid: r for wid, r in zip(a.sock_ids, rx, strict=False)}
    display_rx = {dc: r for dc, r in zip(a.displays, rx[len(a.sock_ids):], strict=True)}
    await asyncio.sleep(1.0)  # subscriptions settle
    return Receivers(rx, worker_rx, display_rx, opened)


async def reopen_closed(r: Receivers, a: Audience, settings: Settings, urls: list[str]) -> int:
    """Open again every socket of `r` that the server closed (e.g. 1013 when its pool was busy); how many."""
    closed = [rx for rx in r.all if rx.task is not None and rx.task.done()]
    if not closed:
        return 0
    by_name = {f"w{wid}": wid for wid in a.sock_ids}
    specs = []
    for rx in closed:
        i = r.all.index(rx)
        if rx.name in by_name:
            specs.append((urls[i % len(urls)], a.worker_tokens[by_name[rx.name]], rx.name, None, True))
        else:
            dc = rx.name.removeprefix("wall-")
            specs.append((urls[(a.displays.index(dc) + 1) % len(urls)], a.tokens[dc], rx.name, dc, True))
    fresh = await open_many(specs)
    for old, new in zip(closed, fresh, strict=True):
        r.all[r.all.index(old)] = new
        if new.name in by_name:
            r.workers[by_name[new.name]] = new
        else:
            r.displays[new.name.removeprefix("wall-")] = new
    await asyncio.sleep(1.0)  # subscriptions settle
    return len(closed)


def run_e2e(urls: list[str], admin: str, a: Audience, r: Receivers, *, rate: float, seconds: float, clients: int):
    return phase_e2e.run(urls, admin, workers=a.sock_ids, positions=a.positions, worker_rx=r.workers,
                         display_rx=r.displays, worker_district=a.district, rate=rate, seconds=seconds,
                         clients=clients)


async def restore_positions(redis: Redis, a: Audience) -> None:
    """The socket workers back at their generated positions (the positions phase moved some of them), so each
    alert is again raised a metre from its target worker."""
    pts = a.positions.tolist()
    for start in range(0, len(pts), 256):
        await asyncio.gather(*(report_positions(redis, worker_id=wid, positions=[(lon, lat, None)])
                               for wid, (lon, lat) in zip(a.sock_ids[start:start + 256], pts[start:start + 256],
                                                          strict=True)))


async def check_bookings(engine, redis: Redis) -> dict:
    """After the end-to-end run, in PostgreSQL: no worker holds more orders than their max load, and Redis's
    loads agree with the orders PostgreSQL says each worker holds."""
    async with engine.connect() as conn:
        rows = (await conn.execute(text(
            "SELECT o.worker_id, count(*), max(w.max_load) FROM orders o JOIN workers w ON w.id = o.worker_id "
            "WHERE o.assignee_kind = 'worker' AND o.status = ANY(:s) GROUP BY o.worker_id"),
            {"s": [s.value for s in ORDER_HOLDING]})).all()
        incidents = (await conn.execute(text("SELECT status, count(*) FROM incidents GROUP BY status"))).all()
    held = {int(wid): int(n) for wid, n, _ in rows}
    over = sum(1 for _, n, m in rows if n > m)
    stored = {int(k): int(v) for k, v in (await redis.hgetall(keys.LOAD)).items() if int(v)}
    mismatched = sum(1 for k in set(held) | set(stored) if held.get(k, 0) != stored.get(k, 0))
    return {"workers_holding": len(held), "over_max_load": over, "load_mismatches": mismatched,
            "incidents_by_status": {s: int(n) for s, n in incidents}, "ok": over == 0 and mismatched == 0}
