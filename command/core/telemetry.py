"""The process's own Prometheus metrics: what the domain code records as it goes (latencies, counts).

Defined once, here in core, so every layer can record without importing ops; `command.ops.metrics` exposes them
with the figures read from PostgreSQL and Redis at scrape time. Under `gridcmd serve --workers N` the values
live in files under PROMETHEUS_MULTIPROC_DIR (set by serve before the workers start), so one scrape of any
worker sums every worker; prometheus_client picks that mode when it is imported, hence no import of it
anywhere before the environment is settled."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

# Seconds: dispatch is milliseconds; a second or more is already a problem worth a bucket of its own.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

HTTP_LATENCY = Histogram(
    "gridcmd_http_request_duration_seconds", "HTTP request latency by route template.",
    ("method", "route", "status"), buckets=LATENCY_BUCKETS)
ALERTS_RECEIVED = Counter("gridcmd_alerts_received_total", "Alerts stored (new incidents).", ("channel",))
DISPATCHES = Counter("gridcmd_dispatches_total", "Incidents moved to dispatched.")
ALERT_TO_DISPATCH = Histogram(
    "gridcmd_alert_to_dispatch_seconds", "From an alert's arrival to its incident being dispatched.",
    buckets=LATENCY_BUCKETS)
ALERT_TO_SOCKET = Histogram(
    "gridcmd_alert_to_socket_seconds", "From an alert's arrival to its first event being queued to the sockets "
    "of this process.", buckets=LATENCY_BUCKETS)
POSITION_REPORTS = Counter("gridcmd_position_reports_total", "Worker position reports accepted.")
OFFERS_TIMED_OUT = Counter("gridcmd_offers_timed_out_total", "Worker offers that timed out.")
# Per process, summed over the live ones ("livesum": a dead worker's files stop counting).
WS_CLIENTS = Gauge("gridcmd_ws_clients", "Open WebSocket clients.", multiprocess_mode="livesum")
WS_QUEUED = Gauge("gridcmd_ws_queued_frames", "Frames queued for sockets, all clients.", multiprocess_mode="livesum")
WS_QUEUE_MAX = Gauge("gridcmd_ws_queue_max", "Deepest queue of one socket.", multiprocess_mode="livemax")
DB_POOL_IN_USE = Gauge("gridcmd_db_pool_in_use", "Database connections checked out.", multiprocess_mode="livesum")
DB_POOL_SIZE = Gauge("gridcmd_db_pool_size", "Database pool size.", multiprocess_mode="livesum")
REDIS_POOL_IN_USE = Gauge("gridcmd_redis_pool_in_use", "Redis connections in use.", multiprocess_mode="livesum")
