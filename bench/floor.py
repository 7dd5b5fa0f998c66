"""The raw floor: the same SQL through pgbench and the same GEOSEARCH through redis-benchmark, on the same data.

pgbench's variable syntax (`:name`) is the one SQLAlchemy's text() uses, so the project's own statement text runs
unchanged; pgbench draws the point with its own random() over the same rectangle the Python driver samples.
Per-transaction logs give the floor's latency percentiles the same way the driver's are computed."""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import tempfile
import urllib.parse
from pathlib import Path

import numpy as np

from bench.stats import summary

STEPS = 1_000_000  # pgbench draws integers; the point is min + step * span / STEPS


def _pg_args(url: str) -> tuple[list[str], dict[str, str]]:
    p = urllib.parse.urlsplit(url.replace("+asyncpg", "").replace("+psycopg", ""))
    args = ["-h", p.hostname or "127.0.0.1", "-p", str(p.port or 5432), "-U", p.username or "postgres"]
    env = dict(os.environ)
    if p.password:
        env["PGPASSWORD"] = p.password
    return [*args, (p.path or "/").lstrip("/")], env


def pgbench_script(sql: str, box: tuple[float, float, float, float], fixed: dict[str, float]) -> str:
    """A pgbench script: a random point in `box` as :lon/:lat, fixed parameters, then the statement."""
    minx, miny, maxx, maxy = box
    lines = [
        f"\\set lon {minx!r} + random(0, {STEPS}) * {(maxx - minx) / STEPS!r}",
        f"\\set lat {miny!r} + random(0, {STEPS}) * {(maxy - miny) / STEPS!r}",
    ]
    lines += [f"\\set {k} {v!r}" for k, v in fixed.items()]
    body = " ".join(sql.split())  # pgbench reads one statement per line
    return "\n".join([*lines, body + ";", ""])


def run_pgbench(url: str, script: str, *, clients: int, seconds: float, threads: int = 2,
                defines: dict[str, str] | None = None, rate: float | None = None) -> dict:
    """Run pgbench with per-transaction logging; returns the same summary shape as the Python drivers.
    `defines`: string variables for the script (pgbench -D name=value). `rate`: transactions per second on a
    schedule (pgbench -R; latencies then include the wait behind a late schedule), else as fast as it can."""
    exe = shutil.which("pgbench")
    if exe is None:
        raise RuntimeError("pgbench not found (apt-get install postgresql-client)")
    conn, env = _pg_args(url)
    with tempfile.TemporaryDirectory(prefix="gridcmd-pgbench-") as tmp:
        f = Path(tmp) / "locate.sql"
        f.write_text(script)
        cmd = [exe, "-n", "-M", "prepared", "-c", str(clients), "-j", str(min(threads, clients)),
               "-T", str(max(1, round(seconds))), "-f", str(f), "-l", "--log-prefix", str(Path(tmp) / "tx"),
               *(f"-D{k}={v}" for k, v in (defines or {}).items()), *(["-R", str(rate)] if rate else []), *conn]
        res = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=seconds + 120, check=False)
        if res.returncode != 0:
            raise RuntimeError(f"pgbench failed: {res.stderr.strip()[-2000:]}")
        lat_us: list[np.ndarray] = []
        for log in glob.glob(str(Path(tmp) / "tx*")):
            arr = np.loadtxt(log, usecols=(2,), ndmin=1, dtype=np.float64)
            lat_us.append(arr)
    lat = np.concatenate(lat_us) / 1e6 if lat_us else np.empty(0)
    m = re.search(r"tps = ([\d.]+) \(without initial connection time\)", res.stdout)
    out = summary(lat, seconds)
    failed = re.search(r"number of failed transactions: (\d+)", res.stdout)
    out["errors"] = int(failed.group(1)) if failed else 0
    if m:
        out["per_s"] = round(float(m.group(1)), 1)
    out["clients"] = clients
    out["tool"] = "pgbench -M prepared" + (f" -R {rate}" if rate else "")
    return out


def run_redis_benchmark(url: str, command: list[str], *, clients: int, requests: int) -> dict:
    """redis-benchmark on one command (its own latency percentiles, from --csv)."""
    exe = shutil.which("redis-benchmark")
    if exe is None:
        raise RuntimeError("redis-benchmark not found (apt-get install redis-tools)")
    p = urllib.parse.urlsplit(url)
    db = (p.path or "/0").lstrip("/") or "0"
    cmd = [exe, "-h", p.hostname or "127.0.0.1", "-p", str(p.port or 6379), "--dbnum", db, "-c", str(clients),
           "-n", str(requests), "--csv", *command]
    if p.password:
        cmd[1:1] = ["-a", p.password]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    if res.returncode != 0:
        raise RuntimeError(f"redis-benchmark failed: {res.stderr.strip()[-2000:]}")
    rows = [line for line in res.stdout.splitlines() if line.strip()]
    header = [h.strip('"') for h in rows[0].split(",")]
    values = [v.strip('"') for v in rows[-1].split(",")]
    row = dict(zip(header, values, strict=False))
    return {"per_s": round(float(row["rps"]), 1), "mean_ms": float(row["avg_latency_ms"]),
            "p50_ms": float(row["p50_latency_ms"]), "p95_ms": float(row["p95_latency_ms"]),
            "p99_ms": float(row["p99_latency_ms"]), "max_ms": float(row["max_latency_ms"]),
            "count": requests, "clients": clients, "tool": "redis-benchmark"}


def ratio(measured: float | None, floor: float | None) -> float | None:
    if not measured or not floor:
        return None
    return round(measured / floor, 3)
