"""Alert → wall-socket latency across groups of web processes, and the check that every wall got every event once.

Alerts are POSTed to each group at a steady rate (open loop, both groups at once). Wall displays (the /screen
subscription: an operator's socket subscribed to a region) are open on every group, so each alert is heard by
walls in the group it entered (within) and in the other (across). Latency: from sending the POST to the first
frame about its incident on a wall. Delivery: each wall's PostgreSQL event ids (`event.pg_id`) against the
events PostgreSQL holds in its region since the start — none missing, none twice."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench import http
from bench.runner import open_loop
from bench.stats import summary
from bench.wsclient import Receiver, open_many


@dataclass
class Wall:
    group: str  # the group its socket is connected to
    region: str  # the region it watches
    rx: Receiver


@dataclass
class Alert:
    body: dict  # POST /api/v1/alerts
    region: str  # the watched region it lies in


@dataclass
class Sent:
    t0: float  # perf_counter at send
    group: str  # the group it was posted to
    region: str


async def open_walls(urls: dict[str, str], tokens: dict[str, str], per_group: int) -> list[Wall]:
    """`per_group` wall sockets on each group, the regions in turn; waits a second for the subscriptions."""
    regions = sorted(tokens)
    specs, meta = [], []
    for g, url in urls.items():
        for i in range(per_group):
            reg = regions[i % len(regions)]
            specs.append((url, tokens[reg], f"wall-{g}-{i}", reg, True))
            meta.append((g, reg))
    rx = await open_many(specs)
    await asyncio.sleep(1.0)
    return [Wall(g, reg, r) for (g, reg), r in zip(meta, rx, strict=True)]


async def last_event_id(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT coalesce(max(id), 0) FROM events"))).scalar_one())


async def drive(urls: dict[str, str], token: str, alerts: dict[str, Callable[[int], Alert]], *, rate: float,
                seconds: float, clients: int = 64) -> tuple[dict[int, Sent], dict]:
    """POST alerts to every group at `rate` per second each, for `seconds`, all groups at once."""
    sent: dict[int, Sent] = {}
    statuses: dict[str, dict[int, int]] = {g: {} for g in urls}
    async with http.session(token, connections=clients * len(urls), timeout_s=30.0) as client:
        def caller(g: str):  # type: ignore[no-untyped-def]
            async def call(i: int) -> None:
                a = alerts[g](i)
                t0 = time.perf_counter()
                async with client.post(f"{urls[g]}/api/v1/alerts", json=a.body) as r:
                    raw = await r.read()
                    statuses[g][r.status] = statuses[g].get(r.status, 0) + 1
                    if r.status != 201:
                        raise RuntimeError(f"POST /api/v1/alerts on {g} → {r.status}: {raw[:300]!r}")
                sent[int(orjson.loads(raw)["id"])] = Sent(t0, g, a.region)
            return call

        loops = await asyncio.gather(*(open_loop(caller(g), rate=rate, seconds=seconds, max_in_flight=clients)
                                       for g in urls))
    post = {g: {**summary(s.latencies, s.wall, errors=s.errors), "dropped_at_client": dropped,
                "statuses": {str(k): v for k, v in statuses[g].items()}, "first_error": s.first_error}
            for g, (s, dropped) in zip(urls, loops, strict=True)}
    return sent, post


async def _expected(engine: AsyncEngine, baseline: int) -> list[tuple[int, list[str]]]:
    async with engine.connect() as conn:
        rows = await conn.execute(text("SELECT id, region_path FROM events WHERE id > :b"), {"b": baseline})
        return [(int(i), list(p or [])) for i, p in rows]


def _gaps(walls: list[Wall], events: list[tuple[int, list[str]]], sent: dict[int, Sent]) -> int:
    n = 0
    for w in walls:
        n += sum(1 for i, path in events if w.region in path and i not in w.rx.event_ids)
        n += sum(1 for iid, s in sent.items() if s.region == w.region and iid not in w.rx.first_seen)
    return n


async def settle(engine: AsyncEngine, walls: list[Wall], sent: dict[int, Sent], baseline: int,
                 within_s: float) -> list[tuple[int, list[str]]]:
    """Wait (up to within_s) until every wall holds every event of its region and every alert; the events
    PostgreSQL held at the last look."""
    deadline = time.monotonic() + within_s
    while True:
        events = await _expected(engine, baseline)
        if not _gaps(walls, events, sent) or time.monotonic() > deadline:
            return events
        await asyncio.sleep(0.2)


def report(walls: list[Wall], sent: dict[int, Sent], events: list[tuple[int, list[str]]], wall_s: float) -> dict:
    """Latency per direction (posted to X → wall on Y), and delivery per wall."""
    lat: dict[str, list[float]] = {}
    missed: dict[str, int] = {}
    for iid, s in sent.items():
        for w in walls:
            if w.region != s.region:
                continue
            key = f"{s.group}->{w.group}"
            if iid in w.rx.first_seen:
                lat.setdefault(key, []).append(w.rx.first_seen[iid] - s.t0)
            else:
                missed[key] = missed.get(key, 0) + 1
    cross = [x for k, v in lat.items() if k.split("->")[0] != k.split("->")[1] for x in v]
    within = [x for k, v in lat.items() if k.split("->")[0] == k.split("->")[1] for x in v]
    delivery = []
    for w in walls:
        expected = {i for i, path in events if w.region in path}
        seen = w.rx.event_ids
        delivery.append({"wall": w.rx.name, "region": w.region, "expected": len(expected),
                         "received": sum(seen.values()), "missing": len(expected - set(seen)),
                         "duplicates": sum(c - 1 for c in seen.values() if c > 1),
                         "out_of_scope": len(set(seen) - expected), "errors": w.rx.errors[:3]})
    return {
        "alerts_accepted": len(sent),
        "latency_ms": {k: summary(v, wall_s) for k, v in sorted(lat.items())},
        "latency_ms_across": summary(cross, wall_s), "latency_ms_within": summary(within, wall_s),
        "alerts_missed_by_walls": missed,
        "events": len(events),
        "delivery": {"walls": len(walls), "missing": sum(d["missing"] for d in delivery),
                     "duplicates": sum(d["duplicates"] for d in delivery),
                     "out_of_scope": sum(d["out_of_scope"] for d in delivery),
                     "frames": sum(d["received"] for d in delivery),
                     "receiver_errors": sum(len(w.rx.errors) for w in walls)},
        "per_wall": delivery,
    }
