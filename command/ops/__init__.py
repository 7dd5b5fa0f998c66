"""ops: running an installation. It owns the background loops (background: ack timers and the sweeper; sweeper:
re-drives what a crash left half-done; jobs: the closed loop's scheduler job), readiness checks, the healthcheck
poll and migrations, metrics (metrics, metrics_state), JSON logs (logs), backup and restore (backup), the local CA
(ca), personal-data retention and erasure (retention, privacy), the track partitions (tracks) and the report jobs
(report_jobs). It sits above the domain packages and may import any of them and realtime; only cli imports it (and
web)."""
