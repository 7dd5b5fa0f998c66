"""bench.soak's parts that a 15-minute run would only exercise at its end: the real Prometheus it starts (with the
committed rules unchanged) read back per window and per rule, the refusals that keep it off other people's
databases, and the driver's and log's summaries. The drill itself is `make soak` (docs/operations.md)."""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import orjson
import pytest

from bench import soak, soak_prom
from bench.soak_crowd import latency_by_window
from command.core.settings import Settings
from tests.procs import free_port

pytestmark = pytest.mark.timeout(90)
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Exporter:
    """A /metrics of gridcmd's names: alerts and dispatches growing, position reports flat at 0 with workers known
(what the position-reports-stopped rule looks for)."""

    def __init__(self) -> None:
        self.n = 0
        self.tokens: set[str] = set()
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                exporter.tokens.add(self.headers.get("Authorization", ""))
                body = exporter.text().encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def text(self) -> str:
        self.n += 10
        lines = [f"gridcmd_alerts_received_total{{channel=\"hotline\"}} {self.n}", f"gridcmd_dispatches_total {self.n}",
                 "gridcmd_position_reports_total 0",
                 "gridcmd_workers_known 320", "gridcmd_needs_attention 2"]
        for name, labels in (("gridcmd_alert_to_dispatch_seconds", ""),
                             ("gridcmd_http_request_duration_seconds", 'method="POST",route="/api/v1/alerts",')):
            for le in BUCKETS:  # every observation 0.03 s: p50 and p99 fall in the (0.025, 0.05] bucket
                lines.append(f'{name}_bucket{{{labels}le="{le}"}} {self.n if le >= 0.05 else 0}')
            lines.append(f'{name}_bucket{{{labels}le="+Inf"}} {self.n}')
            lines.append(f"{name}_count{{{labels.rstrip(',')}}} {self.n}")
        return "\n".join(lines) + "\n"


def test_prometheus_with_the_committed_rules_is_read_back_per_window_and_per_rule() -> None:
    exporter = Exporter()
    work = Path(tempfile.mkdtemp(prefix="gridcmd-soak-test-"))
    prom = soak_prom.Prometheus(work, exporter.port, "soak-token", free_port())
    try:
        t0 = time.time()
        time.sleep(3 * soak_prom.SCRAPE_S + 1)
        t1 = time.time()
        assert exporter.tokens == {"Bearer soak-token"}
        rows = soak_prom.windows(prom, t0, t1, t1 - t0)  # one window: three scrapes at least
        assert len(rows) == 1 and rows[0]["from_min"] == 0
        last = rows[-1]
        assert 0.025 < last["alert_to_dispatch_p50_s"] <= 0.05 and 0.025 < last["post_alert_p99_s"] <= 0.05
        assert last["alerts_per_s"] > 0 and last["positions_per_s"] == 0
        assert last["alert_to_socket_p50_s"] is None  # no such series: reported as missing, not as zero
        assert prom.series("max(gridcmd_needs_attention)", t0, t1, 5)[-1][1] == 2.0
        seen: list[dict] = []
        deadline = time.time() + 4 * soak_prom.SCRAPE_S  # a rule is evaluated every 5 s, once rate() has 2 samples
        while not seen and time.time() < deadline:
            seen = prom.firing(t0, time.time())  # no report at all: only the stopped rule, pending
            time.sleep(0 if seen else 1)
        assert [s["labels"]["alertname"] for s in seen] == [soak_prom.STOPPED_RULE]
        assert seen[0]["labels"]["alertstate"] == "pending"  # its real `for: 5m` is not cut short here
        assert soak_prom.wait_for_rule(prom, soak_prom.STOPPED_RULE, time.time(), 3) is None  # timeout: None
    finally:
        prom.stop()
        exporter.server.shutdown()
        shutil.rmtree(work, ignore_errors=True)


def test_prometheus_that_cannot_start_says_why() -> None:
    work = Path(tempfile.mkdtemp(prefix="gridcmd-soak-test-"))
    busy = ThreadingHTTPServer(("127.0.0.1", free_port()), BaseHTTPRequestHandler)  # its port is taken
    try:
        with pytest.raises(RuntimeError, match="address already in use"):
            soak_prom.Prometheus(work, 1, "t", busy.server_address[1])
    finally:
        busy.server_close()
        shutil.rmtree(work, ignore_errors=True)


def test_it_refuses_databases_and_redis_dbs_not_its_own() -> None:
    with pytest.raises(SystemExit, match="ends in _soak"):
        soak.recreate_database("postgresql://postgres@127.0.0.1:5432/gridcmd")
    for db in (0, 10):
        settings = Settings(database_url="postgresql+asyncpg://postgres@127.0.0.1:5432/x_soak",
                            redis_url=f"redis://127.0.0.1:6379/{db}", secret_key="k" * 48)
        with pytest.raises(SystemExit, match="db 0 or 10"):
            import asyncio

            asyncio.run(soak.prepare(settings))
    assert soak.soak_database_url().endswith("_soak")


def test_driver_latency_windows_and_log_error_summary(tmp_path: Path) -> None:
    samples = [(100.0 + i, 0.01 * (i % 10 + 1)) for i in range(120)]  # 2 minutes, one a second
    rows = latency_by_window(samples, 100.0, 60.0)
    assert [(r["window"], r["n"]) for r in rows] == [(0, 60), (1, 60)]
    assert rows[0]["p50_ms"] == pytest.approx(55.0) and rows[0]["p99_ms"] == pytest.approx(100.0, abs=0.5)
    assert latency_by_window([], 0.0, 60.0) == []

    log = tmp_path / "serve.log"
    err = {"ts": "t1", "level": "error", "logger": "uvicorn.error", "msg": "Exception in ASGI application\n",
           "exc": "Traceback (most recent call last):\n  ...\nRuntimeError: boom"}
    log.write_bytes(b"\n".join([orjson.dumps(err), orjson.dumps({**err, "ts": "t2"}),
                                orjson.dumps({"level": "warning", "msg": "slow"}), b"not json", b"[1]"]))
    out = soak.log_errors(log)
    assert out["count"] == 2
    (key, row), = out["kinds"].items()
    assert key.endswith("RuntimeError: boom") and row == {"count": 2, "first_ts": "t1", "last_ts": "t2"}


def test_rss_and_cpu_summary_compare_start_warm_and_end() -> None:
    rows = [{"t_min": 0.0, "web0:1": 200.0, "cpu_s": {"web0:1": 10.0, "driver": None}},
            {"t_min": 2.0, "web0:1": 205.0, "cpu_s": {"web0:1": 40.0, "driver": 1.0}},
            {"t_min": 15.0, "web0:1": 206.0, "cpu_s": {"web0:1": 400.0, "driver": 9.0}}]
    out = soak.rss_summary(rows)
    assert (out["start"], out["after_2_min"], out["end"]) == ({"web0:1": 200.0}, {"web0:1": 205.0}, {"web0:1": 206.0})
    assert out["cpu_s_used"] == {"web0:1": 390.0}  # a process not readable at the start is left out, not guessed
    assert soak.rss_summary([]) == {}
    assert soak.cpu_seconds(2**22 + 12345) is None  # no such process
