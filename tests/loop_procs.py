"""Real `gridcmd scheduler` processes for the closed-loop tests: start, wait until running, stop or kill."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.procs import ROOT

_CLI = "import sys; from command.cli.registry import main; sys.exit(main(sys.argv[1:]))"


def start(env: dict[str, str], *, interval: float = 0.2) -> subprocess.Popen:
    log = tempfile.NamedTemporaryFile(prefix="gridcmd-scheduler-", suffix=".log", delete=False)
    proc = subprocess.Popen([sys.executable, "-c", _CLI, "scheduler", "--interval", str(interval)],
                            cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
    proc.log_path = log.name  # type: ignore[attr-defined]
    log.close()
    return proc


def logs(procs: list[subprocess.Popen]) -> str:
    return "".join(Path(p.log_path).read_text()[-2000:] for p in procs)  # type: ignore[attr-defined]


def _started(procs: list[subprocess.Popen]) -> bool:
    return all("running" in Path(p.log_path).read_text() for p in procs)  # type: ignore[attr-defined]


async def ready(procs: list[subprocess.Popen], within_s: float = 60) -> None:
    """Wait until every process has started its loop (imports take seconds on a loaded machine)."""
    deadline = time.monotonic() + within_s
    while not _started(procs):
        assert time.monotonic() < deadline, logs(procs)
        assert all(p.poll() is None for p in procs), logs(procs)
        await asyncio.sleep(0.2)


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
