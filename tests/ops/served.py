"""`gridcmd serve` as an operator runs it (the real command in its own process, its uvicorn workers, its log
config), on a kernel-chosen port, with its log written to a file the test reads afterwards."""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from command.core.settings import Settings
from command.ops.healthcheck import wait_until_healthy
from tests.procs import ROOT, free_port, stop


@dataclass
class Served:
    base: str
    port: int
    log: Path
    proc: subprocess.Popen

    def lines(self) -> list[str]:
        return self.log.read_text(encoding="utf-8", errors="replace").splitlines()


@contextmanager
def gridcmd_serve(settings: Settings, *args: str, ca_file: str | None = None, **env: str) -> Iterator[Served]:
    """With `ca_file`, the server serves HTTPS (GRIDCMD_TLS_* in env) and is awaited over it, trusting that CA."""
    port = free_port()
    log = Path(tempfile.mkstemp(prefix="gridcmd-serve-", suffix=".log")[1])
    full = {**os.environ, "DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url,
            "GRIDCMD_SECRET_KEY": settings.secret_key, **env}
    full.pop("PROMETHEUS_MULTIPROC_DIR", None)
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "command.cli", "serve", "--port", str(port), *args],
                                cwd=ROOT, env=full, stdout=out, stderr=subprocess.STDOUT)
    served = Served(f"{'https' if ca_file else 'http'}://127.0.0.1:{port}", port, log, proc)
    try:
        try:
            if ca_file:
                _wait_https(served, ca_file)
            else:
                wait_until_healthy(served.base, proc=proc, timeout=40, interval=0.2)
        except Exception as exc:
            raise RuntimeError(f"{exc}\n" + "\n".join(served.lines()[-30:])) from None
        yield served
    finally:
        stop(proc, timeout=15)


def _wait_https(served: Served, ca_file: str, timeout: float = 40) -> None:
    context = ssl.create_default_context(cafile=ca_file)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if served.proc.poll() is not None:
            raise RuntimeError(f"server exited with {served.proc.returncode}")
        try:
            if httpx.get(served.base + "/healthz", verify=context, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError("server not healthy over HTTPS")
