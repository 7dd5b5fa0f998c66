"""`python -m bench.soak --minutes 60`: the hour-long monitoring drill of issue 19 (docs/operations.md, "Soak").

`gridcmd serve --workers 2` and `gridcmd scheduler` on the demo city (loaded into this run's own database), a
real Prometheus scraping /metrics every 5 s with deploy/prometheus/alerts.yml unchanged; 5 alerts/s, every
worker's position every ~30 s, workers accepting and resolving their orders. Then, from Prometheus' HTTP API:
every dashboard query has data, alert→dispatch and request latency per 10-minute window (drift), needs-attention
over time, every rule pending or firing during the steady state; the web processes' RSS at start and end (leak).
Finally every position report stops and the time until GridcmdPositionReportsStopped fires is measured (its
real 5-minute window and `for: 5m`; alerts keep arriving). Prints the result as JSON, also written to --out-dir."""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import orjson
import psycopg
from redis.asyncio import Redis
from sqlalchemy import text

from bench import setup as bsetup
from bench import soak_prom
from bench.soak_crowd import Crowd, Member, latency_by_window
from bench.stats import mib, rss_bytes
from bench.wsclient import close_all, open_many
from command.core.db import make_engine, make_sessionmaker
from command.core.security import Principal, issue_token
from command.core.settings import Settings
from command.ops.healthcheck import wait_until_healthy
from command.ops.migrate import upgrade
from scripts.grafana_dashboard import dashboard, queries

ROOT = Path(__file__).resolve().parent.parent
TOKEN = secrets.token_urlsafe(24)
WALLS = 4


def log(msg: str) -> None:
    print(f"[soak {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    p.add_argument("--minutes", type=float, default=60, help="steady state duration")
    p.add_argument("--window-minutes", type=float, default=10, help="latency windows (drift)")
    p.add_argument("--rate", type=float, default=5.0, help="alerts per second")
    p.add_argument("--position-every", type=float, default=30.0, help="seconds between one worker's reports")
    p.add_argument("--stop-timeout-minutes", type=float, default=15,
                   help="how long to wait for the position-reports-stopped rule after the reports stop")
    p.add_argument("--database-url", default=None,
                   help="this run's own database, dropped and re-created (default: DATABASE_URL's, <name>_soak)")
    p.add_argument("--redis-url", default=os.environ.get("GRIDCMD_SOAK_REDIS_URL") or os.environ.get("REDIS_URL"),
                   help="a Redis database of your own, flushed at start (never 0 or 10)")
    p.add_argument("--port-base", type=int, default=5810, help="gridcmd on port-base, Prometheus on port-base+1")
    p.add_argument("--nice", type=int, default=5, help="niceness of gridcmd's processes (shared machine)")
    p.add_argument("--out-dir", type=Path, default=Path("var/bench"))
    p.add_argument("--seed", type=int, default=7, help="demo city seed")
    return p.parse_args(argv)


def soak_database_url() -> str:
    p = urllib.parse.urlsplit(os.environ.get("DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/gridcmd"))
    name = (p.path or "/gridcmd").lstrip("/") or "gridcmd"
    return urllib.parse.urlunsplit(p._replace(path=f"/{name}_soak"))


def recreate_database(url: str) -> None:
    p = urllib.parse.urlsplit(url.replace("+asyncpg", "").replace("+psycopg", ""))
    name = (p.path or "/").lstrip("/")
    if not name.endswith("_soak"):
        raise SystemExit(f"refusing to drop {name!r}: the soak's database name ends in _soak")
    with psycopg.connect(urllib.parse.urlunsplit(p._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


async def prepare(settings: Settings) -> tuple[str, list[Member], dict]:
    """Schema, demo city, an operator token and every worker's token; Redis flushed (this run's db only)."""
    from command.demo.load import load_demo

    db = int(urllib.parse.urlsplit(settings.redis_url).path.lstrip("/") or 0)
    if db in (0, 10):
        raise SystemExit("refusing Redis db 0 or 10: pass --redis-url with a database of your own")
    upgrade(settings)
    engine = make_engine(settings)
    try:
        async with make_sessionmaker(engine)() as s, s.begin():
            demo = await load_demo(s, seed=7)
        op = await bsetup.account(engine, settings, username="soak-operator", role="admin")
        async with engine.connect() as conn:
            rows = (await conn.execute(text(
                "SELECT w.id, u.id, u.username, u.token_version, u.role, u.region_code, u.department_code, "
                "ST_X(w.home), ST_Y(w.home) FROM workers w JOIN users u ON u.id = w.user_id "
                "WHERE w.home IS NOT NULL AND u.active ORDER BY w.id"))).all()
            capacity = (await conn.execute(text("SELECT sum(max_load) FROM workers"))).scalar_one()
            district = (await conn.execute(text(
                "SELECT code FROM regions WHERE level = 'district' ORDER BY code LIMIT 1"))).scalar_one()
    finally:
        await engine.dispose()
    # The token must match the account as it stands (role, region, version): command.admin.accounts.refusal.
    crew = [Member(wid, issue_token(settings, Principal(user_id=uid, username=name, role=role, region_code=region,
                                                        department_code=dep, worker_id=wid, version=ver)),
                   (lon, lat))
            for wid, uid, name, ver, role, region, dep, lon, lat in rows]
    redis = Redis.from_url(settings.redis_url)
    await redis.flushdb()
    await redis.aclose()
    return op, crew, {"regions": demo.regions, "workers": len(crew), "max_load_sum": int(capacity or 0),
                      "district": district}


def start_processes(settings: Settings, port: int, nice: int) -> tuple[subprocess.Popen, subprocess.Popen, Path]:
    env = {**os.environ, "DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url,
           "GRIDCMD_SECRET_KEY": settings.secret_key, "GRIDCMD_METRICS_TOKEN": TOKEN, "GRIDCMD_LOG_LEVEL": "warning"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    logf = Path(tempfile.mkstemp(prefix="gridcmd-soak-", suffix=".log")[1])
    cli = ["nice", "-n", str(nice), sys.executable, "-m", "command.cli"]
    with logf.open("ab") as out:
        web = subprocess.Popen([*cli, "serve", "--workers", "2", "--port", str(port)], cwd=ROOT, env=env,
                               stdout=out, stderr=subprocess.STDOUT)
        sched = subprocess.Popen([*cli, "scheduler"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}", proc=web, timeout=90, interval=0.3)
    except Exception as exc:
        bserver_stop([web, sched])
        raise RuntimeError(f"{exc}\n{logf.read_text()[-3000:]}") from None
    return web, sched, logf


def bserver_stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(10)


def _children(pid: int) -> list[int]:
    """The uvicorn worker processes of `serve` (and the scheduler's own pid is sampled apart)."""
    try:
        kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [int(k) for k in kids if (rss_bytes(int(k)) or 0) > 40 * 2**20]  # not the tiny resource tracker


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds the process has used (so far): what the run cost, whatever the machine's load."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return round((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), 2)


async def sample_rss(out: list[dict], pids: dict[str, int], web_pid: int, t0: float, stop: asyncio.Event) -> None:
    while not stop.is_set():
        row: dict = {"t_min": round((time.time() - t0) / 60, 1), "cpu_s": {}}
        for i, k in enumerate(_children(web_pid)):
            row[f"web{i}:{k}"] = mib(rss_bytes(k))
            row["cpu_s"][f"web{i}:{k}"] = cpu_seconds(k)
        for name, pid in {**pids, "driver": os.getpid()}.items():
            row[name] = mib(rss_bytes(pid))
            row["cpu_s"][name] = cpu_seconds(pid)
        out.append(row)
        try:
            await asyncio.wait_for(stop.wait(), 60)
        except TimeoutError:
            pass


async def soak(args: argparse.Namespace) -> dict:
    db_url = args.database_url or soak_database_url()
    settings = Settings(database_url=db_url, redis_url=args.redis_url,
                        secret_key=os.environ.get("GRIDCMD_SECRET_KEY") or secrets.token_urlsafe(48))
    result: dict = {"started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "minutes": args.minutes, "rate": args.rate,
                    "position_every_s": args.position_every, "machine": {"cpus": os.cpu_count(),
                                                                         "load_avg_start": os.getloadavg()}}
    log(f"database {db_url.rsplit('/', 1)[-1]}: re-created, demo city loading")
    recreate_database(db_url)
    op, crew, result["world"] = await prepare(settings)
    log(f"{result['world']}; starting gridcmd serve --workers 2 and gridcmd scheduler")
    web, sched, logf = start_processes(settings, args.port_base, args.nice)
    work = Path(tempfile.mkdtemp(prefix="gridcmd-soak-prom-"))
    prom = None
    stop = asyncio.Event()
    try:
        prom = soak_prom.Prometheus(work, args.port_base, TOKEN, args.port_base + 1)
        crowd = Crowd(f"http://127.0.0.1:{args.port_base}", op, crew, args.rate, args.position_every)
        t0, m0 = time.time(), time.monotonic()
        rss: list[dict] = []
        sampler = asyncio.create_task(sample_rss(rss, {"scheduler": sched.pid}, web.pid, t0, stop))
        driver = asyncio.create_task(crowd.run(stop))
        # Wall displays of the district (a few, so both uvicorn workers likely hold one): alert → socket figures.
        walls = await open_many([(crowd.base_url, op, f"wall{i}", result["world"]["district"], True)
                                 for i in range(WALLS)])
        log(f"steady state for {args.minutes} min at {args.rate} alerts/s, Prometheus at {prom.base}")
        end = t0 + args.minutes * 60
        while time.time() < end:
            await asyncio.sleep(min(60, max(0.1, end - time.time())))
            if web.poll() is not None or sched.poll() is not None:
                raise RuntimeError(f"gridcmd exited:\n{logf.read_text()[-3000:]}")
            log(f"{(time.time() - t0) / 60:.1f} min: {dict(crowd.stats)}")
        t_steady = time.time()
        await asyncio.sleep(soak_prom.SCRAPE_S * 2)  # the last scrapes and rule evaluations of the steady state
        result["driver"] = {"stats_at_steady_end": dict(crowd.stats),
                            "alert_post_latency_by_window": latency_by_window(
                                crowd.alert_latency, m0, args.window_minutes * 60)}
        result.update(await asyncio.to_thread(steady_report, prom, t0, t_steady, args.window_minutes * 60))

        crowd.positions_on = False  # every phone goes quiet; alerts keep arriving
        t_off = time.time()
        log("position reports stopped; waiting for GridcmdPositionReportsStopped")
        fired = await asyncio.to_thread(soak_prom.wait_for_rule, prom, soak_prom.STOPPED_RULE, t_off,
                                        args.stop_timeout_minutes * 60)
        result["positions_stopped"] = {
            "rule": soak_prom.STOPPED_RULE, "fired_after_s": fired,
            "expected_s": "about 600-615: rate over [5m] reaches 0 five minutes after the last report, then for: 5m",
            "rules_seen_after_stop": prom.firing(t_off, time.time())}
        stop.set()
        await driver
        await sampler
        result["driver"]["stats_final"] = dict(crowd.stats)
        result["walls"] = [{"frames": w.frames, "incidents_seen": len(w.first_seen), "errors": w.errors[:3]}
                           for w in walls]
        await close_all(walls)
        result["rss_mib"] = rss_summary(rss)  # and the CPU seconds each process used
    finally:
        stop.set()
        if prom is not None:
            prom.stop()
        bserver_stop([web, sched])
        shutil.rmtree(work, ignore_errors=True)
        result["server_log_errors"] = log_errors(logf)
        logf.unlink(missing_ok=True)
    result["machine"]["load_avg_end"] = os.getloadavg()
    return result


def log_errors(path: Path) -> dict:
    """Error lines of gridcmd's JSON log, by message and the exception's last line (what went wrong, and when)."""
    seen: dict[str, dict] = {}
    for line in path.read_text(errors="replace").splitlines():
        try:
            rec = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if not isinstance(rec, dict) or rec.get("level") not in ("error", "critical"):
            continue
        exc = str(rec.get("exc") or "").strip().splitlines()
        key = f"{rec.get('logger')}: {str(rec.get('msg')).strip()} | {exc[-1] if exc else ''}"[:400]
        row = seen.setdefault(key, {"count": 0, "first_ts": rec.get("ts")})
        row["count"] += 1
        row["last_ts"] = rec.get("ts")
    return {"count": sum(r["count"] for r in seen.values()), "kinds": seen}


def steady_report(prom: soak_prom.Prometheus, t0: float, t1: float, window_s: float) -> dict:
    dash = {expr: bool(prom.query(expr, t1)) for expr in queries(dashboard())}
    return {
        "dashboard_queries": {"total": len(dash), "with_data": sum(dash.values()),
                              "empty": [e for e, ok in dash.items() if not ok]},
        "windows": soak_prom.windows(prom, t0, t1, window_s),
        "needs_attention_per_min": prom.series("max(gridcmd_needs_attention)", t0, t1, 60),
        "needs_attention_oldest_s_per_min": prom.series("max(gridcmd_needs_attention_oldest_seconds)", t0, t1, 60),
        "workers_present_per_min": prom.series("max(gridcmd_workers_present)", t0, t1, 60),
        "offers_pending_per_min": prom.series("max(gridcmd_offers_pending)", t0, t1, 60),
        "rules_pending_or_firing_in_steady_state": prom.firing(t0, t1),
    }


def rss_summary(rows: list[dict]) -> dict:
    if not rows:
        return {}
    first, last = rows[0], rows[-1]
    keys = [k for k in last if k not in ("t_min", "cpu_s")]
    warm = next((r for r in rows if r["t_min"] >= 2), first)  # after the caches and pools filled
    return {"start": {k: first.get(k) for k in keys}, "after_2_min": {k: warm.get(k) for k in keys},
            "end": {k: last.get(k) for k in keys},
            "t_min": [first["t_min"], last["t_min"]],
            "cpu_s_used": {k: round(v - first["cpu_s"][k], 1) for k, v in last["cpu_s"].items()
                           if v is not None and first["cpu_s"].get(k) is not None},
            "per_min": rows}


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # asyncio.run cancels the run: its `finally` stops gridcmd and Prometheus


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    result = asyncio.run(soak(args))
    args.out_dir.mkdir(parents=True, exist_ok=True)
    path = args.out_dir / f"soak-{time.strftime('%Y%m%d-%H%M%S')}.json"
    body = orjson.dumps(result, option=orjson.OPT_INDENT_2)
    path.write_bytes(body)
    print(body.decode())
    log(f"result written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
