"""End to end: POST /api/v1/alerts at a fixed rate (open loop) → the assigned worker's socket and the district's
wall display socket, both real WebSocket receivers connected before the run.

The receivers are a sample of workers spread over the province; each alert is raised a metre from one of them,
in turn, so the nearest available worker is (almost always) one with a socket. Their max load is raised to hold
their share of the run's alerts; every other worker keeps competing from the GEO set as usual. Alerts go to the
web processes in turn; displays are spread over the processes too, so most alerts cross processes."""

from __future__ import annotations

import asyncio
import math
import time

import numpy as np
import orjson

from bench import http
from bench.runner import open_loop
from bench.setup import CATEGORY
from bench.stats import summary
from bench.wsclient import Receiver

JITTER_DEG = 1e-5  # ~1 m
SETTLE_S = 20.0  # after the last alert, how long stragglers may take before they count as lost (the wait ends
# as soon as none is missing: it costs a slow machine time, not a fast one; 5 s counted late arrivals as lost)


def district_of(code: str) -> str:
    return code[:6]  # "32" + the district's four digits (bench.province.SUFFIX_DIGITS)


def share(alerts: int, receivers: int) -> int:
    """Max load that lets every socket worker take its turn of the run's alerts, plus one spare."""
    return math.ceil(alerts / max(receivers, 1)) + 1


def _incident_and_workers(body: dict) -> tuple[int | None, list[int]]:
    inc = body.get("incident") if isinstance(body.get("incident"), dict) else body
    iid = inc.get("id")
    orders = body.get("orders") or inc.get("orders") or []
    workers = [int(o["worker_id"]) for o in orders if isinstance(o, dict) and o.get("worker_id") is not None]
    return (int(iid) if iid is not None else None), workers


async def run(base_urls: list[str], token: str, *, workers: list[int], positions: np.ndarray,
              worker_rx: dict[int, Receiver], display_rx: dict[str, Receiver], worker_district: dict[int, str],
              rate: float, seconds: float, clients: int) -> dict:
    total = int(rate * seconds)
    sent: dict[int, tuple[float, int, int | None]] = {}  # incident id → (t_send, target worker, assigned worker)
    statuses: dict[int, int] = {}
    retries = [0]
    run_id = f"bench-{time.time_ns()}"
    rng = np.random.default_rng(11)
    jitter = rng.uniform(-JITTER_DEG, JITTER_DEG, (total, 2))
    async with http.session(token, connections=clients, timeout_s=30.0) as client:
        async def post(url: str, body: dict) -> tuple[int, dict[str, str], bytes]:
            async with client.post(f"{url}/api/v1/alerts", json=body) as r:
                return r.status, dict(r.headers), await r.read()

        async def call(i: int) -> None:
            k = i % len(workers)
            wid = workers[k]
            lon, lat = positions[k] + jitter[i]
            body = {"category": CATEGORY, "description": f"压测告警 #{i}", "lon": float(lon), "lat": float(lat),
                    "channel": "hotline", "external_id": f"{run_id}-{i}"}
            t0 = time.perf_counter()
            try:
                status, headers, raw = await post(base_urls[i % len(base_urls)], body)
            except http.TRANSPORT_ERRORS:
                # What a real sender does: retry once; the same external_id makes it idempotent.
                retries[0] += 1
                status, headers, raw = await post(base_urls[(i + 1) % len(base_urls)], body)
            if status == 200 and headers.get("Idempotent-Replayed"):
                status = 201  # the retry's first attempt had been committed: same incident
            statuses[status] = statuses.get(status, 0) + 1
            if status != 201:
                raise RuntimeError(f"POST /api/v1/alerts → {status}: {raw[:300]!r}")
            iid, assigned = _incident_and_workers(orjson.loads(raw))
            if iid is None:
                raise RuntimeError(f"no incident id in {raw[:300]!r}")
            sent[iid] = (t0, wid, assigned[0] if assigned else None)

        s, dropped = await open_loop(call, rate=rate, seconds=seconds, max_in_flight=clients)
    for _ in range(int(SETTLE_S * 10)):  # polled: arrivals are recorded by the receivers' own tasks
        if not _missing(sent, worker_rx, display_rx, worker_district):
            break
        await asyncio.sleep(0.1)
    out = _report(s, dropped, statuses, sent, worker_rx, display_rx, worker_district, rate, seconds)
    out["retried_after_transport_error"] = retries[0]
    return out


def _missing(sent: dict, worker_rx: dict[int, Receiver], display_rx: dict[str, Receiver],
             worker_district: dict[int, str]) -> int:
    n = 0
    for iid, (_, target, assigned) in sent.items():
        d = display_rx.get(worker_district[target])
        if d is not None and iid not in d.first_seen:
            n += 1
        w = worker_rx.get(assigned) if assigned is not None else None
        if w is not None and iid not in w.first_seen:
            n += 1
    return n


def _report(s, dropped: int, statuses: dict, sent: dict, worker_rx: dict[int, Receiver],
            display_rx: dict[str, Receiver], worker_district: dict[int, str], rate: float, seconds: float) -> dict:
    to_worker, to_display = [], []
    lost_worker = lost_display = not_target = unassigned = 0
    for iid, (t0, target, assigned) in sent.items():
        d = display_rx.get(worker_district[target])
        if d is not None:
            if iid in d.first_seen:
                to_display.append(d.first_seen[iid] - t0)
            else:
                lost_display += 1
        if assigned is None:
            unassigned += 1
            continue
        if assigned != target:
            not_target += 1
        w = worker_rx.get(assigned)
        if w is None:
            continue  # assigned to a worker without a socket: only the display can be timed
        if iid in w.first_seen:
            to_worker.append(w.first_seen[iid] - t0)
        else:
            lost_worker += 1
    post = summary(s.latencies, s.wall, errors=s.errors)
    receivers = [*worker_rx.values(), *display_rx.values()]
    return {
        "target_rate": rate, "target_seconds": seconds, "attempted": int(rate * seconds), "dropped_at_client": dropped,
        "accepted_201": len(sent), "statuses": {str(k): v for k, v in statuses.items()}, "first_error": s.first_error,
        "post": post,
        "to_worker": summary(to_worker, s.wall), "to_display": summary(to_display, s.wall),
        "lost_to_worker": lost_worker, "lost_to_display": lost_display,
        # Lost: acknowledged with 201 and never delivered. A POST that failed twice (timeouts under overload) was
        # not acknowledged: a real sender retries it again with the same external_id; counted apart.
        "alerts_lost": lost_worker + lost_display, "unacknowledged": s.errors,
        "achieved_rate": round(len(sent) / s.wall, 1) if s.wall else 0.0,
        "assigned_elsewhere": not_target, "unassigned": unassigned,
        "receivers": {"workers": len(worker_rx), "displays": len(display_rx),
                      # WebSocket frames and the events in them, since the sockets opened (a batch frame holds
                      # the events that waited together: web/ws_client.py)
                      "frames": sum(r.frames for r in receivers),
                      "events": sum(sum(r.kinds.values()) for r in receivers),
                      "receiver_errors": sum(len(r.errors) for r in receivers),
                      "first_errors": [f"{r.name}: {e}" for r in receivers for e in r.errors][:5]},
    }
