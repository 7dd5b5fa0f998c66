"""The web processes under test: N separate uvicorn processes (one per port), so each one's RSS is its own and a
wall display on one sees alerts that entered through another (fan-out through Redis, as in production)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from command.ops.healthcheck import ServerNotReady, wait_until_healthy

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Server:
    port: int
    proc: subprocess.Popen
    log_path: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log_tail(self, n: int = 4000) -> str:
        try:
            return Path(self.log_path).read_text(errors="replace")[-n:]
        except OSError:
            return ""


def start(ports: list[int], env: dict[str, str], *, nice: int = 0, app: str = "web.main:app") -> list[Server]:
    """Start `app` (an ASGI import path) in one uvicorn process per port, and wait until each answers."""
    servers = []
    for port in ports:
        log = tempfile.NamedTemporaryFile(prefix=f"gridcmd-bench-{port}-", suffix=".log", delete=False)
        cmd = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port),
               "--log-level", "warning", "--no-access-log", "--ws-max-size", str(64 * 1024)]
        if nice:
            cmd = ["nice", "-n", str(nice), *cmd]
        proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        servers.append(Server(port, proc, log.name))
    try:
        for s in servers:
            wait_ready(s)
    except Exception:
        stop(servers)
        raise
    return servers


def wait_ready(s: Server, timeout: float = 60.0) -> None:
    try:
        wait_until_healthy(s.url, proc=s.proc, timeout=timeout)
    except ServerNotReady as exc:
        raise RuntimeError(f"port {s.port}: {exc}\n{s.log_tail()}") from None


def stop(servers: list[Server], timeout: float = 15.0) -> None:
    for s in servers:
        if s.proc.poll() is None:
            s.proc.send_signal(signal.SIGTERM)
    for s in servers:
        try:
            s.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            s.proc.kill()
            s.proc.wait(timeout)
        Path(s.log_path).unlink(missing_ok=True)

