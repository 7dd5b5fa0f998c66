"""/metrics scraped by a real Prometheus (Debian's package, started here on a kernel-chosen port) while alerts
and position reports flow through `gridcmd serve --workers 2`: every query of the Grafana dashboard returns
data, promtool accepts the rules, and the position-reports-stopped rule fires once the reports stop (the rules
loaded with their windows and `for:` cut to seconds; the hour-long drill is for `make bench`)."""

from __future__ import annotations

import asyncio
import random
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from command.core.db import make_sessionmaker
from scripts.grafana_dashboard import dashboard, queries
from tests.dispatch_fixtures import add_user, add_workers, at, seed_world
from tests.environment import make_test_settings
from tests.ops.served import gridcmd_serve
from tests.procs import ROOT, free_port, stop

PROMETHEUS, PROMTOOL = shutil.which("prometheus"), shutil.which("promtool")
RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
TOKEN = "metrics-test-token-0123456789"
pytestmark = pytest.mark.timeout(120)


def test_promtool_accepts_the_rules_and_the_config() -> None:
    assert PROMTOOL, "promtool missing: scripts/provision.sh --test installs Debian's prometheus"
    out = subprocess.run([PROMTOOL, "check", "rules", str(RULES)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SUCCESS: 9 rules found" in out.stdout


def test_the_committed_dashboard_is_the_generated_one() -> None:
    import json

    committed = json.loads((ROOT / "deploy" / "grafana" / "gridcmd.json").read_text())
    assert committed == dashboard(), "run: .venv/bin/python scripts/grafana_dashboard.py"


def fast_rules(text: str) -> str:
    """The rules with every range and `for:` in seconds, so a test can watch one fire."""
    text = re.sub(r"\[(\d+)m\]", "[4s]", text)
    return re.sub(r"for: \d+m", "for: 1s", text)


def start_prometheus(work: Path, target_port: int) -> tuple[subprocess.Popen, str]:
    (work / "token").write_text(TOKEN)
    (work / "alerts.yml").write_text(fast_rules(RULES.read_text()))
    (work / "prometheus.yml").write_text(f"""
global: {{scrape_interval: 1s, evaluation_interval: 1s}}
rule_files: ["{work}/alerts.yml"]
scrape_configs:
  - job_name: gridcmd
    authorization: {{type: Bearer, credentials_file: "{work}/token"}}
    static_configs: [{{targets: ["127.0.0.1:{target_port}"]}}]
""")
    check = subprocess.run([PROMTOOL, "check", "config", str(work / "prometheus.yml")], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    port = free_port()
    log = (work / "prometheus.log").open("wb")
    proc = subprocess.Popen([PROMETHEUS, f"--config.file={work}/prometheus.yml", f"--storage.tsdb.path={work}/data",
                             f"--web.listen-address=127.0.0.1:{port}"], stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if httpx.get(f"{base}/-/ready", timeout=1).status_code == 200:
                return proc, base
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError((work / "prometheus.log").read_text()[-2000:])


def query(base: str, expr: str, *, at: float | None = None) -> list[dict]:
    """An instant query, now or evaluated at unix time `at`."""
    params = {"query": expr} | ({"time": f"{at:.3f}"} if at is not None else {})
    r = httpx.get(f"{base}/api/v1/query", params=params, timeout=5)
    assert r.status_code == 200, r.text
    return r.json()["data"]["result"]


async def flow(served_base: str, op, workers, *, seconds: float, alerts_per_s: float) -> int:
    """Alerts at the given rate and every worker's position each second; returns the alerts accepted."""
    rng = random.Random(5)
    accepted = 0
    async with httpx.AsyncClient(base_url=served_base, timeout=10) as http:
        started = time.monotonic()
        n = 0
        while (elapsed := time.monotonic() - started) < seconds:
            for who, (lon, lat) in workers:
                r = await http.post("/api/v1/workers/me/position", json={"lon": lon, "lat": lat}, headers=who.headers)
                assert r.status_code == 200, r.text
            while n < elapsed * alerts_per_s:
                lon, lat = at(rng.uniform(0, 4), rng.uniform(0, 4))
                r = await http.post("/api/v1/alerts", headers=op.headers, json={
                    "category": "noise", "description": "楼上装修噪声", "lon": lon, "lat": lat, "channel": "hotline"})
                assert r.status_code == 201, r.text
                accepted, n = accepted + 1, n + 1
            await asyncio.sleep(0.2)
    return accepted


async def test_prometheus_scrapes_the_dashboard_has_data_and_a_rule_fires(clean_db, redis) -> None:
    assert PROMETHEUS, "prometheus missing: scripts/provision.sh --test installs Debian's prometheus"
    settings = make_test_settings()
    async with make_sessionmaker(clean_db)() as s, s.begin():
        await seed_world(s, ack_timeout_s=600)
        op = await add_user(s, settings, username="op", role="operator")
        workers = await add_workers(s, settings, [at(0.5 + i % 3, 0.5 + i // 3) for i in range(9)])
    work = Path(tempfile.mkdtemp(prefix="gridcmd-prom-"))
    with gridcmd_serve(settings, "--workers", "2", GRIDCMD_METRICS_TOKEN=TOKEN, GRIDCMD_METRICS_CACHE_S="0.5",
                       GRIDCMD_LOG_LEVEL="warning") as served:
        async with httpx.AsyncClient(base_url=served.base, timeout=10) as http:  # protected
            assert (await http.get("/metrics")).status_code == 401
            assert (await http.get("/metrics", headers={"Authorization": "Bearer wrong"})).status_code == 401
        prom, prom_base = start_prometheus(work, served.port)
        try:
            accepted = await flow(served.base, op, workers, seconds=6, alerts_per_s=5)
            flow_end = time.time()
            assert accepted >= 10
            await asyncio.sleep(2)  # a last scrape after the flow
            total = query(prom_base, "sum(gridcmd_alerts_received_total)")
            assert total and float(total[0]["value"][1]) == accepted  # summed over both workers, none twice
            empty = [expr for expr in queries(dashboard()) if not query(prom_base, expr)]
            assert empty == [], f"dashboard queries without data: {empty}"
            routes = {r["metric"]["route"] for r in query(prom_base, "gridcmd_http_request_duration_seconds_count")}
            assert "/api/v1/alerts" in routes and "/api/v1/workers/me/position" in routes  # templates, not paths
            # Not firing while the reports flowed (asked as of the flow's end: the rule's window is cut to 4 s, so
            # by now, after the dashboard's queries, it may rightly be pending).
            assert not query(prom_base, 'ALERTS{alertname="GridcmdPositionReportsStopped", alertstate="firing"}',
                             at=flow_end)

            deadline = time.monotonic() + 25  # no more reports: the rule must fire (4 s window + 1 s for:)
            while time.monotonic() < deadline:
                firing = query(prom_base, 'ALERTS{alertname="GridcmdPositionReportsStopped", alertstate="firing"}')
                if firing:
                    break
                await asyncio.sleep(0.5)
            assert firing, "GridcmdPositionReportsStopped did not fire"
            assert not query(prom_base, 'ALERTS{alertname="GridcmdPostgresUnreachable"}')
        finally:
            stop(prom, timeout=10)
            shutil.rmtree(work, ignore_errors=True)
