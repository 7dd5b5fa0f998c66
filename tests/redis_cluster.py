"""A Redis Cluster for a test: the one GRIDCMD_TEST_REDIS_CLUSTER names, or a fresh local one started by
scripts/redis-cluster.sh (3 masters + 3 replicas) on six free ports of this suite's range, stopped afterwards."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.environment import TEST_REDIS_CLUSTER
from tests.procs import free_ports

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "redis-cluster.sh"
FIRST, LAST = 7110, 7189  # in this worktree's port range (7100-7199; bus ports +10000); 7100-7105: the dev cluster


def _free_base() -> int:
    for base in range(FIRST, LAST - 5, 10):
        block = list(range(base, base + 6)) + [p + 10_000 for p in range(base, base + 6)]
        if all(free_ports(1, p, p, strict=False) for p in block):
            return base
    raise RuntimeError(f"no six free ports (and bus ports) in {FIRST}-{LAST}")


@contextmanager
def cluster_url(workdir: Path) -> Iterator[str]:
    if TEST_REDIS_CLUSTER:
        yield TEST_REDIS_CLUSTER
        return
    base = _free_base()
    out = subprocess.run([str(SCRIPT), "start", str(base), str(workdir)], check=True, capture_output=True,
                         text=True, timeout=60)
    try:
        yield out.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run([str(SCRIPT), "stop", str(base), str(workdir)], check=False, timeout=60)
