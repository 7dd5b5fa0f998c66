"""Write deploy/grafana/gridcmd.json, the Grafana dashboard of docs/operations.md, from the panel list below
(one place to edit; tests/ops/test_metrics_prometheus.py runs every query of it against a real Prometheus).

    .venv/bin/python scripts/grafana_dashboard.py
"""

from __future__ import annotations

import json
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "deploy" / "grafana" / "gridcmd.json"
DS = {"type": "prometheus", "uid": "${datasource}"}

# (title, unit, [(expr, legend)])
PANELS: list[tuple[str, str, list[tuple[str, str]]]] = [
    ("Alerts received /s", "reqps", [("sum(rate(gridcmd_alerts_received_total[1m])) by (channel)", "{{channel}}")]),
    ("Alert → dispatch (p50, p95)", "s", [
        ("histogram_quantile(0.5, sum(rate(gridcmd_alert_to_dispatch_seconds_bucket[1m])) by (le))", "p50"),
        ("histogram_quantile(0.95, sum(rate(gridcmd_alert_to_dispatch_seconds_bucket[1m])) by (le))", "p95")]),
    ("Alert → socket (p50, p95)", "s", [
        ("histogram_quantile(0.5, sum(rate(gridcmd_alert_to_socket_seconds_bucket[1m])) by (le))", "p50"),
        ("histogram_quantile(0.95, sum(rate(gridcmd_alert_to_socket_seconds_bucket[1m])) by (le))", "p95")]),
    ("Request latency p95 by route", "s", [
        ("histogram_quantile(0.95, sum(rate(gridcmd_http_request_duration_seconds_bucket[1m])) by (le, route))",
         "{{route}}")]),
    ("Incidents by state", "short", [("max(gridcmd_incidents) by (state)", "{{state}}")]),
    ("Needs attention", "short", [("max(gridcmd_needs_attention)", "count")]),
    ("Oldest needs-attention", "s", [("max(gridcmd_needs_attention_oldest_seconds)", "age")]),
    ("Offers", "short", [("max(gridcmd_offers_pending)", "pending"),
                         ("max(gridcmd_offers_timed_out_last_hour)", "timed out (1 h)")]),
    ("Deadlines overdue", "short", [("max(gridcmd_deadlines_overdue)", "overdue")]),
    ("WebSocket clients and queues", "short", [("sum(gridcmd_ws_clients)", "clients"),
                                               ("sum(gridcmd_ws_queued_frames)", "queued frames"),
                                               ("max(gridcmd_ws_queue_max)", "deepest queue")]),
    ("Position reports /s and workers present", "short", [
        ("sum(rate(gridcmd_position_reports_total[1m]))", "reports/s"),
        ("max(gridcmd_workers_present)", "workers present")]),
    ("Pools", "short", [("sum(gridcmd_db_pool_in_use)", "db in use"), ("sum(gridcmd_db_pool_size)", "db size"),
                        ("sum(gridcmd_redis_pool_in_use)", "redis in use")]),
    ("Scheduler and 12345 outbox lag", "s", [("max(gridcmd_scheduler_lag_seconds)", "scheduler"),
                                             ("max(gridcmd_outbox_lag_seconds)", "outbox")]),
    ("Dependencies up", "short", [("min(gridcmd_dependency_up) by (dependency)", "{{dependency}}")]),
]


def dashboard() -> dict:
    panels = []
    for i, (title, unit, targets) in enumerate(PANELS):
        panels.append({
            "id": i + 1, "type": "timeseries", "title": title, "datasource": DS,
            "gridPos": {"h": 8, "w": 12, "x": 12 * (i % 2), "y": 8 * (i // 2)},
            "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
            "targets": [{"refId": chr(65 + j), "datasource": DS, "expr": expr, "legendFormat": legend}
                        for j, (expr, legend) in enumerate(targets)],
        })
    return {
        "title": "gridcmd", "uid": "gridcmd", "schemaVersion": 39, "version": 1, "editable": True,
        "time": {"from": "now-1h", "to": "now"}, "refresh": "10s", "tags": ["gridcmd"],
        "templating": {"list": [{"name": "datasource", "type": "datasource", "query": "prometheus",
                                 "label": "Prometheus"}]},
        "panels": panels,
    }


def queries(doc: dict) -> list[str]:
    """Every expression of a dashboard document."""
    return [t["expr"] for p in doc["panels"] for t in p["targets"]]


if __name__ == "__main__":
    OUT.write_text(json.dumps(dashboard(), ensure_ascii=False, indent=2) + "\n")
    print(f"wrote {OUT}")
