"""The database's floor for end to end: one alert's intake SQL (bench/intake_floor.sql) through pgbench.

It answers "how many alerts a second can PostgreSQL alone take on this machine, and at what CPU per alert",
with no Python in the way: pgbench (C) sends the same statements the intake sends, in one transaction per alert,
on the same tables (the province's regions, the same triggers and indexes). The rows it writes are marked and
deleted afterwards, so the phases that follow see the database as it was."""

from __future__ import annotations

import asyncio
import json
import os
import resource
import string
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.floor import STEPS, run_pgbench
from bench.stats import cpu_seconds, machine_busy_seconds
from command.assign.live import LIVE_LOCK_SHARED

SCRIPT = Path(__file__).with_name("intake_floor.sql")
MARKER = "bench intake floor"  # the description of every incident the floor writes
# One alert's events (incident.created, .located, order.offered, incident.dispatched) as the intake writes them:
# the same shape and size; IID is replaced by the new incident's id in SQL.
_PATH = ["320011", "320011006", "320011006011", "320011006011004", "32001100601100401"]


def _events_json(user_id: int) -> str:
    incident = {"id": "IID", "lat": 31.89022292957317, "lon": 117.72838907075882, "status": "reported",
                "channel": "hotline", "priority": 1, "public_id": "969a0b74-3571-4dea-a9cf-d81e76fe0246",
                "created_at": "2026-12-05T07:58:56.961176+00:00", "description": MARKER,
                "region_code": _PATH[-1], "region_path": _PATH, "category_code": "bench_alarm",
                "attention_reason": None}
    order = {"id": 1, "role": "lead", "status": "sent", "worker_id": 143285, "distance_m": 0.9,
             "ack_due_at": "2026-12-05T08:58:56.982780+00:00", "incident_id": "IID", "assignee_kind": "worker",
             "department_code": None}

    def event(kind: str, to: str | None = None, frm: str | None = None, **payload: object) -> dict:
        return {"kind": kind, "actor": "bench-admin", "reason": None, "order_id": None, "to_state": to,
                "from_state": frm, "worker_id": order["worker_id"] if "order" in payload else None,
                "incident_id": "IID", "region_path": _PATH, "actor_user_id": user_id, "department_code": None,
                "payload": {"incident": {**incident, "status": to or "reported"}, **payload}}

    events = [event("incident.created", crs="wgs84"), event("incident.located", "located", "reported"),
              event("order.offered", order=order), event("incident.dispatched", "dispatched", "located")]
    return json.dumps(events, ensure_ascii=False).replace('"IID"', "IID")


def script(box: tuple[float, float, float, float], workers: int, user_id: int) -> str:
    minx, miny, maxx, maxy = box
    return string.Template(SCRIPT.read_text()).substitute(
        minx=repr(minx), miny=repr(miny), dx=repr((maxx - minx) / STEPS), dy=repr((maxy - miny) / STEPS),
        steps=STEPS, workers=workers, live_lock=LIVE_LOCK_SHARED, marker=MARKER, user_id=user_id)


async def cleanup(engine: AsyncEngine) -> int:
    """Delete what the floor wrote (children first); returns the number of incidents removed."""
    mine = "SELECT id FROM incidents WHERE description = :m"
    async with engine.begin() as conn:
        # Foreign-key triggers off for this transaction: every child row goes first, explicitly, and checking each
        # deleted order against events.order_id (not indexed: orders are never deleted in service) took minutes.
        await conn.execute(text("SET LOCAL session_replication_role = replica"))
        for table in ("hotline_outbox", "events", "deadlines", "orders", "incident_links"):
            await conn.execute(text(f"DELETE FROM {table} WHERE incident_id IN ({mine})"), {"m": MARKER})
        return (await conn.execute(text("DELETE FROM incidents WHERE description = :m"), {"m": MARKER})).rowcount


async def run(engine: AsyncEngine, url: str, box: tuple[float, float, float, float], *, workers: int,
              clients: int, seconds: float, rate: float | None = None) -> dict:
    """pgbench at full speed on the intake's SQL. pgbench's backends connect and leave within the run, so
    PostgreSQL's CPU is taken as the whole machine's busy time less pgbench's own and this process's
    (`database_cpu_ms_per_tx`; it also holds whatever else ran, so it errs high, and is left out when `rate` is
    given: pgbench then runs on a schedule beside other work, e2e_floor_db)."""
    async with engine.connect() as conn:  # the alerts' author, as the benchmark's own alerts have one
        user_id = await conn.scalar(text("SELECT id FROM users WHERE role = 'admin' ORDER BY id LIMIT 1"))
    if user_id is None:
        raise RuntimeError("no admin user to author the floor's incidents")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy0, me0 = machine_busy_seconds(), cpu_seconds(os.getpid()) or 0.0
    try:
        out = await asyncio.to_thread(run_pgbench, url, script(box, workers, user_id), clients=clients,
                                      seconds=seconds, defines={"ev": _events_json(user_id)}, rate=rate)
        busy1, me1 = machine_busy_seconds(), cpu_seconds(os.getpid()) or 0.0
    finally:
        removed = await cleanup(engine)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    client = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    done = out.get("count") or 0
    out["pgbench_cpu_ms_per_tx"] = round(client / done * 1000, 3) if done else None
    database = (busy1 - busy0) - client - (me1 - me0)
    out["database_cpu_ms_per_tx"] = round(database / done * 1000, 3) if done and rate is None else None
    out["machine_cores_busy"] = round((busy1 - busy0) / seconds, 2)
    out["rows_removed"] = removed
    out["statements_per_tx"] = sum(1 for line in SCRIPT.read_text().splitlines()
                                   if line and not line.startswith(("--", "\\")))
    out["events_json_bytes"] = len(_events_json(user_id).encode())
    return out
