"""The soak's Prometheus (Debian's package): started on a free port, scraping /metrics every 5 s with the committed
deploy/prometheus/alerts.yml loaded unchanged (real windows and `for:`), and the figures read back through its
HTTP API — the operator's view of the run, not the driver's."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
SCRAPE_S = 5
STOPPED_RULE = "GridcmdPositionReportsStopped"


class Prometheus:
    def __init__(self, work: Path, target_port: int, token: str, port: int) -> None:
        self.work, self.port = work, port
        self.base = f"http://127.0.0.1:{port}"
        binary, promtool = shutil.which("prometheus"), shutil.which("promtool")
        if not binary or not promtool:
            raise RuntimeError("prometheus missing: scripts/provision.sh --test installs Debian's prometheus")
        (work / "token").write_text(token)
        (work / "prometheus.yml").write_text(f"""
global: {{scrape_interval: {SCRAPE_S}s, evaluation_interval: {SCRAPE_S}s}}
rule_files: ["{RULES}"]
scrape_configs:
  - job_name: gridcmd
    authorization: {{type: Bearer, credentials_file: "{work}/token"}}
    static_configs: [{{targets: ["127.0.0.1:{target_port}"]}}]
""")
        check = subprocess.run([promtool, "check", "config", str(work / "prometheus.yml")],
                               capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(check.stdout + check.stderr)
        self.log = (work / "prometheus.log").open("wb")
        self.proc = subprocess.Popen([binary, f"--config.file={work}/prometheus.yml",
                                      f"--storage.tsdb.path={work}/data", f"--web.listen-address=127.0.0.1:{port}"],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(300):
            if self.proc.poll() is not None:
                break
            try:
                if httpx.get(f"{self.base}/-/ready", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError((work / "prometheus.log").read_text()[-2000:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.log.close()

    def query(self, expr: str, at: float | None = None) -> list[dict]:
        params: dict[str, str | float] = {"query": expr}
        if at is not None:
            params["time"] = at
        r = httpx.get(f"{self.base}/api/v1/query", params=params, timeout=30)
        r.raise_for_status()
        return list(r.json()["data"]["result"])

    def scalar(self, expr: str, at: float | None = None) -> float | None:
        res = self.query(expr, at)
        if not res:
            return None
        v = float(res[0]["value"][1])
        return None if v != v else round(v, 4)  # NaN: no observations in the window

    def series(self, expr: str, start: float, end: float, step: float) -> list[list[float]]:
        r = httpx.get(f"{self.base}/api/v1/query_range",
                      params={"query": expr, "start": start, "end": end, "step": step}, timeout=30)
        r.raise_for_status()
        res = r.json()["data"]["result"]
        return [[round(float(t) - start), float(v)] for t, v in res[0]["values"]] if res else []

    def firing(self, start: float, end: float) -> list[dict]:
        """Every rule pending or firing between start and end, with its labels and when it was first seen."""
        r = httpx.get(f"{self.base}/api/v1/query_range",
                      params={"query": "ALERTS", "start": start, "end": end, "step": SCRAPE_S}, timeout=30)
        r.raise_for_status()
        out = []
        for s in r.json()["data"]["result"]:
            first = float(s["values"][0][0]) - start
            out.append({"labels": s["metric"], "first_seen_s": round(first), "samples": len(s["values"])})
        return out


def windows(prom: Prometheus, start: float, end: float, window_s: float) -> list[dict]:
    """Per window of the steady state: alert→dispatch and request latency p50/p99 (from the histograms' increase
    over exactly that window), alerts received and position reports per second."""
    out = []
    t = start
    while t + 1 < end:
        w_end = min(t + window_s, end)
        rng = f"{max(1, round(w_end - t))}s"

        def q(expr: str, at: float = w_end) -> float | None:
            return prom.scalar(expr, at)

        row: dict = {"from_min": round((t - start) / 60, 1), "to_min": round((w_end - start) / 60, 1)}
        for p in (0.5, 0.99):
            tag = f"p{round(p * 100)}"
            row[f"alert_to_dispatch_{tag}_s"] = q(
                f"histogram_quantile({p}, sum(increase(gridcmd_alert_to_dispatch_seconds_bucket[{rng}])) by (le))")
            row[f"alert_to_socket_{tag}_s"] = q(
                f"histogram_quantile({p}, sum(increase(gridcmd_alert_to_socket_seconds_bucket[{rng}])) by (le))")
            for route, name in (("/api/v1/alerts", "post_alert"), ("/api/v1/workers/me/position", "post_position")):
                row[f"{name}_{tag}_s"] = q(
                    f'histogram_quantile({p}, sum(increase(gridcmd_http_request_duration_seconds_bucket'
                    f'{{route="{route}",method="POST"}}[{rng}])) by (le))')
        row["alerts_per_s"] = q(f"sum(increase(gridcmd_alerts_received_total[{rng}])) / {w_end - t}")
        row["positions_per_s"] = q(f"sum(increase(gridcmd_position_reports_total[{rng}])) / {w_end - t}")
        row["dispatches_per_s"] = q(f"sum(increase(gridcmd_dispatches_total[{rng}])) / {w_end - t}")
        out.append(row)
        t = w_end
    return out


def wait_for_rule(prom: Prometheus, rule: str, since: float, timeout_s: float) -> float | None:
    """Seconds from `since` until `rule` is firing (None: not within timeout_s)."""
    deadline = since + timeout_s
    while time.time() < deadline:
        if prom.query(f'ALERTS{{alertname="{rule}", alertstate="firing"}}'):
            return round(time.time() - since, 1)
        time.sleep(2)
    return None
