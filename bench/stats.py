"""Latency summaries and resident memory read from /proc."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np


def summary(latencies_s: list[float] | np.ndarray, wall_s: float, *, errors: int = 0) -> dict:
    """Count, throughput and latency percentiles in milliseconds."""
    lat = np.asarray(latencies_s, dtype=float) * 1000.0
    out: dict = {"count": int(lat.size), "errors": errors, "seconds": round(wall_s, 3),
                 "per_s": round(lat.size / wall_s, 1) if wall_s > 0 else 0.0}
    if lat.size:
        p50, p95, p99 = np.percentile(lat, [50, 95, 99])
        out.update(p50_ms=round(float(p50), 3), p95_ms=round(float(p95), 3), p99_ms=round(float(p99), 3),
                   max_ms=round(float(lat.max()), 3), mean_ms=round(float(lat.mean()), 3))
    return out


def rss_bytes(pid: int) -> int | None:
    """Resident set size of a process (VmRSS), or None if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return None


def mib(n: int | None) -> float | None:
    return None if n is None else round(n / 2**20, 1)


class PeakRss:
    """Tracks the largest RSS seen per process across samples taken during the run."""

    def __init__(self) -> None:
        self.peak: dict[str, int] = {}

    def sample(self, named_pids: dict[str, int]) -> None:
        for name, pid in named_pids.items():
            r = rss_bytes(pid)
            if r is not None and r > self.peak.get(name, 0):
                self.peak[name] = r

    def as_mib(self) -> dict[str, float]:
        return {k: mib(v) for k, v in sorted(self.peak.items())}  # type: ignore[misc]


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time a process has used so far (/proc/<pid>/stat, clock ticks)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent busy since boot (/proc/stat: user, nice, system, irq, softirq, steal; not idle or
    iowait)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU seconds each named process spent between start() and stop(): who was busy during a phase.

    `group` names a set of processes found anew at start and stop (PostgreSQL backends come and go): a backend
    that ended during the phase is missed, one that started counts from zero."""

    def __init__(self, named_pids: dict[str, int], group: tuple[str, Callable[[], list[int]]] | None = None) -> None:
        self.pids = named_pids
        self.group = group
        self.before: dict[str, float | None] = {}
        self.group_before: dict[int, float] = {}

    def start(self) -> None:
        self.before = {k: cpu_seconds(p) for k, p in self.pids.items()}
        if self.group:
            self.group_before = {p: cpu_seconds(p) or 0.0 for p in self.group[1]()}

    def stop(self, wall_s: float) -> dict[str, float]:
        out = {}
        for k, p in self.pids.items():
            now, was = cpu_seconds(p), self.before.get(k)
            if now is not None and was is not None:
                out[k] = round((now - was) / wall_s, 2) if wall_s > 0 else 0.0
        if self.group and wall_s > 0:
            spent = sum((cpu_seconds(p) or 0.0) - self.group_before.get(p, 0.0) for p in self.group[1]())
            out[self.group[0]] = round(spent / wall_s, 2)
        return out
