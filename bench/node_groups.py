"""Groups of web processes that share nothing but PostgreSQL and Redis, as separate machines would.

A group is one `gridcmd serve --workers N --port P` (the command an operator runs on each machine) in a working
directory of its own, so nothing relative to it (var/metrics of the workers, var/backups, var/ca …) is shared.
Beyond PostgreSQL and Redis, the groups share exactly what a real multi-machine deployment shares: the signing-key
file (GRIDCMD_SECRET_KEY_FILE: every node signs and verifies with one key) and the uploads directory
(GRIDCMD_UPLOAD_DIR: a network file system in production). docs/scaling.md."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from command.ops.healthcheck import ServerNotReady, wait_until_healthy

ROOT = Path(__file__).resolve().parent.parent
# Inherited variables that would make two groups share something a second machine would not have.
NOT_INHERITED = ("GRIDCMD_SECRET_KEY", "PROMETHEUS_MULTIPROC_DIR", "GRIDCMD_SECRET_KEY_FILE", "GRIDCMD_UPLOAD_DIR")


@dataclass
class Group:
    name: str
    port: int
    processes: int
    proc: subprocess.Popen
    cwd: Path
    log_path: Path
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def pids(self) -> list[int]:
        """The serving processes: uvicorn's workers when there are several, else the command itself."""
        children = _children(self.proc.pid)
        return children if self.processes > 1 else [self.proc.pid]

    def log_tail(self, n: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return ""


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def shared_dir(root: Path) -> Path:
    """What the nodes of one installation share: the key file and the uploads directory."""
    (root / "uploads").mkdir(parents=True, exist_ok=True)
    return root


def launch(name: str, port: int, *, processes: int, env: dict[str, str], shared: Path, nice: int = 0) -> Group:
    """Start one group's `gridcmd serve` and return at once (see wait_ready)."""
    cwd = Path(tempfile.mkdtemp(prefix=f"gridcmd-node-{name}-"))
    log_path = cwd / "serve.log"
    full = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    full.update(env)
    full.update(GRIDCMD_SECRET_KEY_FILE=str(shared / "secret_key"), GRIDCMD_UPLOAD_DIR=str(shared / "uploads"),
                PYTHONPATH=str(ROOT))
    cmd = [sys.executable, "-m", "command.cli", "serve", "--port", str(port), "--workers", str(processes)]
    if nice:
        cmd = ["nice", "-n", str(nice), *cmd]
    with log_path.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=cwd, env=full, stdout=out, stderr=subprocess.STDOUT)
    return Group(name, port, processes, proc, cwd, log_path)


def wait_ready(group: Group, timeout: float = 60.0) -> None:
    """Until each of the group's processes is up (it answers /healthz and has all its workers); on failure the
    group is stopped and RuntimeError says why, with its log."""
    try:
        wait_until_healthy(group.url, proc=group.proc, timeout=timeout, interval=0.2)
        deadline = time.monotonic() + timeout
        while group.processes > 1 and len(group.pids()) < group.processes:
            if time.monotonic() > deadline:
                raise ServerNotReady(f"{len(group.pids())} of {group.processes} workers started")
            time.sleep(0.2)
        if group.processes > 1:  # each worker runs its lifespan (hub, relay) before it accepts: let the last finish
            time.sleep(2.0)
    except (ServerNotReady, RuntimeError) as exc:
        tail = stop_group(group)
        raise RuntimeError(f"group {group.name} (port {group.port}): {exc}\n{tail}") from None


def start_groups(specs: list[tuple[str, int]], *, processes: int, env: dict[str, str], shared: Path, nice: int = 0,
                 timeout: float = 60.0) -> list[Group]:
    """Start groups (name, port) side by side and wait for all; if one fails, all are stopped."""
    groups = [launch(name, port, processes=processes, env=env, shared=shared, nice=nice) for name, port in specs]
    try:
        for g in groups:
            wait_ready(g, timeout)
    except RuntimeError:
        for g in groups:
            stop_group(g)
        raise
    return groups


def stop_group(group: Group, timeout: float = 20.0, *, keep_log: bool = False) -> str:
    """SIGTERM (uvicorn stops its workers), then SIGKILL if it hangs. Returns the log's tail."""
    if group.proc.poll() is None:
        group.proc.send_signal(signal.SIGTERM)
    try:
        group.proc.wait(timeout)
    except subprocess.TimeoutExpired:
        for pid in group.pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        group.proc.kill()
        group.proc.wait(timeout)
    tail = group.log_tail()
    if not keep_log:
        shutil.rmtree(group.cwd, ignore_errors=True)
    return tail
