"""A Redis Cluster for a test: the one GRIDCMD_TEST_REDIS_CLUSTER names, or a fresh local one started by
scripts/redis-cluster.sh (3 masters + 3 replicas) on six free ports of this suite's range, stopped afterwards.
`ClusterSet` is a cluster of a drill's own, whose master can be killed (tests/ops/test_fault_cluster.py)."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dispatch import keys
from tests.environment import TEST_REDIS_CLUSTER
from tests.procs import free_ports

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "redis-cluster.sh"
FIRST, LAST = 7110, 7189  # in this worktree's port range (7100-7199; bus ports +10000); 7100-7105: the dev cluster


def free_base() -> int:
    for base in range(FIRST, LAST - 5, 10):
        block = list(range(base, base + 6)) + [p + 10_000 for p in range(base, base + 6)]
        if all(free_ports(1, p, p, strict=False) for p in block):
            return base
    raise RuntimeError(f"no six free ports (and bus ports) in {FIRST}-{LAST}")


class ClusterSet:
    """scripts/redis-cluster.sh's six nodes on base..base+5, with the drill's view of them: which master serves the
    dispatch state (`{gc}`) now, and a SIGKILL for a node."""

    def __init__(self, base: int, workdir: Path) -> None:
        self.base, self.dir = base, workdir
        self.ports = list(range(base, base + 6))
        self.url = ""
        self.killed: set[int] = set()

    def start(self) -> str:
        out = subprocess.run([str(SCRIPT), "start", str(self.base), str(self.dir)], capture_output=True, text=True,
                             timeout=60)
        if out.returncode != 0:
            raise RuntimeError(f"redis-cluster.sh start failed: {out.stderr}")
        self.url = out.stdout.strip().splitlines()[-1]
        return self.url

    def stop(self) -> None:
        subprocess.run([str(SCRIPT), "stop", str(self.base), str(self.dir)], capture_output=True, timeout=60)

    def _cli(self, *args: str) -> str:
        for port in self.ports:  # any node still alive answers for the cluster
            if port in self.killed:
                continue
            out = subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True, text=True, timeout=5)
            if out.returncode == 0 and out.stdout.strip():
                return out.stdout
        raise RuntimeError("no node of the cluster answers")

    def master_port(self, key: str = keys.DEFAULT.live_marker) -> int:
        """The port of the master serving `key`'s slot, as the live nodes see it now (0 while none does)."""
        slot = int(self._cli("cluster", "keyslot", key))
        for line in self._cli("cluster", "nodes").splitlines():
            _, address, flags, *rest = line.split()
            if "master" not in flags.split(",") or "fail" in flags:
                continue
            for span in rest[5:]:
                if span.startswith("["):  # a slot in migration
                    continue
                first, _, last = span.partition("-")
                if int(first) <= slot <= int(last or first):
                    return int(address.split("@")[0].rsplit(":", 1)[1])
        return 0

    def kill(self, port: int) -> None:
        """SIGKILL the node on `port` (no save, no goodbye)."""
        pidfile = self.dir / str(port) / "redis.pid"
        os.kill(int(pidfile.read_text().strip()), signal.SIGKILL)
        pidfile.unlink()
        self.killed.add(port)


@contextmanager
def cluster_url(workdir: Path) -> Iterator[str]:
    if TEST_REDIS_CLUSTER:
        yield TEST_REDIS_CLUSTER
        return
    nodes = ClusterSet(free_base(), workdir)
    try:
        yield nodes.start()
    finally:
        nodes.stop()
