"""Prometheus exposition of one installation: the process metrics (command.core.telemetry, summed over every
worker of `gridcmd serve --workers N` through PROMETHEUS_MULTIPROC_DIR) and the scrape-time figures of
PostgreSQL and Redis (command.ops.metrics_state). Metric names are documented in docs/operations.md; the
dashboard (deploy/grafana/gridcmd.json) and the alert rules (deploy/prometheus/alerts.yml) use them."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from command.core.lifecycle import IncidentStatus
from command.ops.metrics_state import FINISHED, State

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def prepare_multiprocess_dir(path: str | Path) -> Path:
    """Empty `path` and point PROMETHEUS_MULTIPROC_DIR at it, before any worker starts (gridcmd serve): the
    workers, spawned after, write their values there. Files of a previous run would count again, hence empty."""
    directory = Path(path)
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    os.environ[MULTIPROC_ENV] = str(directory)
    return directory


def mark_process_gone(pid: int) -> None:
    """A worker that stops: its live gauges stop counting (its counters and histograms stay in the sums)."""
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


def _gauge(name: str, doc: str, value: float | None, labels: dict[str, str] | None = None) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=list(labels or {}))
    if value is not None:
        family.add_metric(list((labels or {}).values()), value)
    return family


class StateCollector(Collector):
    """The figures of one State reading as gauges (a reading whose source was down yields no sample)."""

    def __init__(self, state: State) -> None:
        self.state = state

    def collect(self) -> Iterator[GaugeMetricFamily]:
        s = self.state
        up = GaugeMetricFamily("gridcmd_dependency_up", "PostgreSQL / Redis answered the last reading "
                               "(PostgreSQL: a SELECT 1; its figures may still be missing when their read was slow).",
                               labels=["dependency"])
        up.add_metric(["postgres"], 1.0 if s.db_up else 0.0)
        up.add_metric(["redis"], 1.0 if s.redis_up else 0.0)
        yield up
        if s.db_figures:
            by_state = GaugeMetricFamily("gridcmd_incidents", "Open incidents by state (finished ones: see "
                                         "gridcmd_alerts_received_total).", labels=["state"])
            for status in IncidentStatus:
                if status.value in FINISHED:
                    continue
                by_state.add_metric([status.value], float(s.incidents_by_state.get(status.value, 0)))
            yield by_state
        yield _gauge("gridcmd_needs_attention", "Incidents an operator must act on.", s.attention)
        yield _gauge("gridcmd_needs_attention_oldest_seconds", "Age of the oldest needs-attention incident.",
                     s.attention_oldest_s if s.db_figures else None)
        yield _gauge("gridcmd_offers_pending", "Worker offers not yet answered.", s.offers_pending)
        yield _gauge("gridcmd_offers_timed_out_last_hour", "Offers that timed out in the last hour.",
                     s.offers_timed_out_1h)
        yield _gauge("gridcmd_deadlines_overdue", "Deadlines overdue and not yet met.", s.deadlines_overdue)
        yield _gauge("gridcmd_scheduler_lag_seconds", "How late the oldest due, unfired deadline is.",
                     s.scheduler_lag_s if s.db_figures else None)
        yield _gauge("gridcmd_outbox_pending", "12345 status reports not yet delivered.", s.outbox_pending)
        yield _gauge("gridcmd_outbox_failing", "Undelivered 12345 reports that failed at least once.",
                     s.outbox_failing)
        yield _gauge("gridcmd_outbox_lag_seconds", "Age of the oldest undelivered 12345 report.",
                     s.outbox_lag_s if s.db_figures else None)
        yield _gauge("gridcmd_workers_present", "Workers with a position report within presence_ttl_s.",
                     s.workers_present)
        yield _gauge("gridcmd_workers_known", "Workers with live state in Redis.", s.workers_known)
        yield _gauge("gridcmd_event_stream_length", "Entries in the event stream.", s.stream_length)
        yield _gauge("gridcmd_metrics_read_seconds", "Time the last reading of PostgreSQL and Redis took.", s.read_s)


def exposition(state: State) -> bytes:
    """The text a scrape gets."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        registry.register(StateCollector(state))
        return generate_latest(registry)
    return generate_latest(REGISTRY) + generate_latest(_single(state))


def _single(state: State) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StateCollector(state))
    return registry
