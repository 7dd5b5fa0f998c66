"""The result: every figure in one JSON document, each target judged, and a short human summary."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import orjson

GIB_MIB = 1024.0


def _get(d: dict, path: str) -> Any:
    cur: Any = d
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


def _check(value: Any, op: str, limit: float) -> bool | None:
    if value is None:
        return None
    return value >= limit if op == ">=" else value <= limit


# (name, figure path, op, limit, what the issue asks)
TARGETS: list[tuple[str, str, str, float, str]] = [
    ("locate_ratio", "locate.function_2proc.ratio_to_floor", ">=", 0.8, "locate ≥ 80% of the pgbench floor"),
    ("locate_p99", "locate.function_2proc.p99_ms", "<=", 2.0, "locate p99 ≤ 2 ms"),
    ("assign_rate", "assign.claims_per_s", ">=", 5000, "assignment ≥ 5,000 claims/s"),
    ("assign_p99", "assign.p99_ms", "<=", 5.0, "assignment p99 ≤ 5 ms"),
    ("e2e_worker_p50", "e2e.to_worker.p50_ms", "<=", 10.0, "alert → worker socket p50 ≤ 10 ms"),
    ("e2e_worker_p99", "e2e.to_worker.p99_ms", "<=", 50.0, "alert → worker socket p99 ≤ 50 ms"),
    ("e2e_display_p99", "e2e.to_display.p99_ms", "<=", 100.0, "alert → wall display p99 ≤ 100 ms"),
    ("positions_rate", "positions.per_s", ">=", 20000, "positions ≥ 20,000 updates/s"),
    ("tiles_p95", "tiles.province.p95_ms", "<=", 50.0, "province-wide tiles p95 ≤ 50 ms"),
    ("web_rss", "memory.web_max_mib", "<=", GIB_MIB, "each web process ≤ 1 GiB RSS"),
]


def judge(result: dict) -> dict:
    out = {}
    for name, path, op, limit, text in TARGETS:
        value = _get(result, path)
        out[name] = {"target": text, "figure": value, "met": _check(value, op, limit)}
    db = _get(result, "assign.double_bookings.ok")
    out["assign_no_double_booking"] = {"target": "zero double bookings", "figure": _get(
        result, "assign.double_bookings.over_max_load"), "met": db}
    e2e_db = _get(result, "e2e_check.ok")
    out["e2e_no_double_booking"] = {"target": "zero double bookings (end to end, checked in PostgreSQL)",
                                    "figure": _get(result, "e2e_check.over_max_load"), "met": e2e_db}
    late = _get(result, "positions.visibility.over_1s")
    out["positions_visible"] = {"target": "each position visible to the next dispatch within 1 s (probes over 1 s)",
                                "figure": late, "met": None if late is None else late == 0}
    tracks = _get(result, "tracks.compare")
    out["tracks_beside_dispatch"] = {
        "target": "≥ 20,000 positions/s persisted; dispatch p99 and visibility p99 within 10% of the half without "
                  "track writes", "figure": tracks, "met": None if tracks is None else tracks["met"]}
    lost = _get(result, "e2e.alerts_lost")
    out["e2e_none_lost"] = {"target": "zero alerts lost", "figure": lost, "met": None if lost is None else lost == 0}
    return out


# Phase → the path of its operation count: CPU per operation does not depend on how busy the machine was.
OPS = {"assign": "assign.count", "locate_http": "locate.http.count", "e2e": "e2e.accepted_201",
       "e2e_light": "e2e_light.accepted_201", "e2e_floor": "e2e_floor.accepted_201",
       "e2e_floor_db": "e2e_floor_db.accepted_201", "intake_floor": "intake_floor.count",
       "positions": "positions.frames_sent"}


def cpu_per_op(result: dict) -> dict:
    """Milliseconds of CPU each process spent per operation during a phase (cores busy × seconds ÷ count)."""
    out: dict = {}
    for phase, path in OPS.items():
        n, busy = _get(result, path), _get(result, f"cpu_cores_busy.{phase}")
        wall = _get(result, f"phase_seconds.{phase}")
        if n and busy and wall:
            per = {k: round(v * wall / n * 1000, 3) for k, v in busy.items()}
            per["web_total"] = round(sum(v for k, v in per.items() if k.startswith("web:")), 3)
            out[phase] = per
    tiles = _get(result, "tiles")
    busy, wall = _get(result, "cpu_cores_busy.tiles"), _get(result, "phase_seconds.tiles")
    if tiles and busy and wall:
        n = sum((tiles.get(v) or {}).get("count", 0) for v in ("province", "zoomed"))
        if n:
            out["tiles"] = {k: round(v * wall / n * 1000, 3) for k, v in busy.items()}
    return out


def composed_floor(result: dict, cores: int) -> dict | None:
    """End to end's floor in CPU per alert: the database's (the intake SQL through pgbench) plus the transport's
    (the thinnest app: its web processes, the same driver, Redis), beside the real app's. On `cores` cores, an
    alert rate above cores × 1000 / floor ms cannot be carried by any implementation of the same work, and
    latency targets need the rate well below it (queues grow without bound as the cores near 100% busy)."""
    db = _get(result, "intake_floor.database_cpu_ms_per_tx")
    transport = _get(result, "cpu_ms_per_op.e2e_floor")
    if not db or not transport:
        return None
    parts = {"database": db, "web": transport.get("web_total"), "driver": transport.get("driver"),
             "redis": transport.get("redis")}
    if any(v is None for v in parts.values()):
        return None
    total = round(sum(parts.values()), 3)
    out: dict = {"ms_per_alert": parts, "total_ms_per_alert": total,
                 "ceiling_alerts_per_s": round(cores * 1000 / total, 1), "cores": cores}
    target = _get(result, "e2e.target_rate") or _get(result, "e2e_floor.target_rate")
    if target:
        out["cores_busy_at_target"] = round(target * total / 1000, 2)
        out["target_rate"] = target
    real = _get(result, "cpu_ms_per_op.e2e")
    if real:
        real_total = sum(real.get(k) or 0 for k in ("web_total", "driver", "redis", "postgres"))
        out["real_app_total_ms_per_alert"] = round(real_total, 3)
        out["real_app_over_floor"] = round(real_total / total, 2)
    return out


def write(result: dict, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"result-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY))
    return path


def _fmt(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:,.3f}" if abs(v) < 10 else f"{v:,.1f}"
    if isinstance(v, int):
        return f"{v:,d}"
    return str(v)


def human(result: dict) -> str:
    r = result
    lines = [f"gridcmd benchmark — scale {r['scale']['name']}: {_fmt(r['scale']['regions'])} regions, "
             f"{_fmt(r['scale']['workers'])} workers, {r['machine']['cpus']} CPUs"]
    rows = [
        ("locate fn (2 processes)", "locate.function_2proc", "locate.floor"),
        ("locate fn (session/client)", "locate.function", "locate.floor"),
        ("locate fn (session/call)", "locate.function_per_call", "locate.floor"),
        ("locate HTTP", "locate.http", "locate.floor"),
        ("locate new stmt (pgbench)", "locate.floor_new_statement", "locate.floor"),
        ("assign+claim", "assign", "assign.floor"),
        ("tiles province", "tiles.province", None),
        ("tiles zoomed", "tiles.zoomed", None),
        ("alert POST", "e2e.post", None),
        ("alert → worker", "e2e.to_worker", None),
        ("alert → display", "e2e.to_display", None),
        ("alert → worker (light load)", "e2e_light.to_worker", None),
        ("alert → display (light load)", "e2e_light.to_display", None),
        ("floor alert POST", "e2e_floor.post", None),
        ("floor alert → worker", "e2e_floor.to_worker", None),
        ("floor alert → display", "e2e_floor.to_display", None),
        ("floor + db alert → worker", "e2e_floor_db.to_worker", None),
        ("floor + db alert → display", "e2e_floor_db.to_display", None),
        ("floor + db intake SQL", "e2e_floor_db.database", None),
    ]
    lines.append(f"{'':28s} {'per s':>10s} {'p50 ms':>8s} {'p99 ms':>8s} {'floor/s':>10s} {'ratio':>6s}")
    for label, path, floor_path in rows:
        fig = _get(r, path) or {}
        fl = _get(r, floor_path) if floor_path else None
        lines.append(f"{label:28s} {_fmt(fig.get('per_s')):>10s} {_fmt(fig.get('p50_ms')):>8s} "
                     f"{_fmt(fig.get('p99_ms')):>8s} {_fmt((fl or {}).get('per_s')):>10s} "
                     f"{_fmt(fig.get('ratio_to_floor')):>6s}")
    lines.append(f"positions applied/s {_fmt(_get(r, 'positions.per_s'))}; visible p99 "
                 f"{_fmt(_get(r, 'positions.visibility.p99_ms'))} ms; "
                 f"web RSS max {_fmt(_get(r, 'memory.web_max_mib'))} MiB")
    floor = _get(r, "e2e_floor")
    if floor:
        cpu = _get(r, "cpu_ms_per_op.e2e_floor") or {}
        real = _get(r, "cpu_ms_per_op.e2e") or {}
        lines.append(
            f"e2e transport floor (bench/floor_app.py): {_fmt(floor.get('achieved_rate'))} alerts/s achieved at "
            f"target {_fmt(floor.get('target_rate'))} (real app: {_fmt(_get(r, 'e2e.achieved_rate'))}); to worker "
            f"p50/p99 {_fmt(_get(floor, 'to_worker.p50_ms'))}/{_fmt(_get(floor, 'to_worker.p99_ms'))} ms; "
            f"lost {_fmt(floor.get('alerts_lost'))}; CPU ms/alert web {_fmt(cpu.get('web_total'))} "
            f"(real {_fmt(real.get('web_total'))}), driver {_fmt(cpu.get('driver'))}, redis {_fmt(cpu.get('redis'))}, "
            f"postgres {_fmt(cpu.get('postgres'))}")
    composed = r.get("e2e_composed_floor")
    if composed:
        parts = ", ".join(f"{k} {_fmt(v)}" for k, v in composed["ms_per_alert"].items())
        lines.append(
            f"e2e floor in CPU per alert: {parts} = {_fmt(composed['total_ms_per_alert'])} ms "
            f"(real app {_fmt(composed.get('real_app_total_ms_per_alert'))} ms); ceiling on {composed['cores']} "
            f"cores {_fmt(composed['ceiling_alerts_per_s'])} alerts/s; at {_fmt(composed.get('target_rate'))}/s "
            f"{_fmt(composed.get('cores_busy_at_target'))} cores busy")
    lines.append("targets:")
    for name, t in r.get("targets", {}).items():
        mark = {True: "met", False: "NOT MET", None: "not measured"}[t["met"]]
        lines.append(f"  {mark:12s} {t['target']} (figure: {_fmt(t['figure'])}) [{name}]")
    errs = r.get("errors") or {}
    for phase, msg in errs.items():
        lines.append(f"  error in {phase}: {msg}")
    return "\n".join(lines)
