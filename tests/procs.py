"""Real uvicorn processes for multi-process tests: start N servers on given ports, wait, stop or kill -9.

    env = server_env(settings, GRIDCMD_SWEEPER_INTERVAL_S="0.5")
    proc = start_server(8300, env)
    wait_ready(8300)
    ...
    stop(proc)

Each server's output goes to a log file (never a pipe a busy test could leave unread and so block the server);
`log_tail(proc)` shows its end when something fails."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from command.core.settings import Settings
from command.ops.healthcheck import ServerNotReady, wait_until_healthy

ROOT = Path(__file__).resolve().parent.parent


def server_env(settings: Settings, **extra: str) -> dict[str, str]:
    """Environment variables that make a server use the same database, Redis and secret as `settings`."""
    return {
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "GRIDCMD_SECRET_KEY": settings.secret_key,
        **extra,
    }


def free_port() -> int:
    """A port nothing listens on now, chosen by the kernel (so two suites on one machine never collide)."""
    return kernel_ports(1)[0]


def kernel_ports(n: int) -> list[int]:
    """n distinct free ports chosen by the kernel (all bound at once, so none repeats)."""
    socks = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in socks]
    finally:
        for s in socks:
            s.close()


def _ephemeral_low() -> int:
    """The first port the kernel hands out to outgoing connections (net.ipv4.ip_local_port_range)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768


def free_port_block(n: int) -> int:
    """A base port b such that b+1 … b+n are all free now (for tools that take a port base). Below the kernel's
    range for outgoing connections: a tool that binds its ports long after they were chosen (the benchmark's later
    phases) found one taken by a client socket of its own ("address already in use")."""
    for _ in range(200):
        base = random.randint(10_000, _ephemeral_low() - n - 2)
        if len(free_ports(n, base + 1, base + n, strict=False)) == n:
            return base
    raise RuntimeError(f"no block of {n} free ports found")


def free_ports(n: int, first: int, last: int, *, strict: bool = True) -> list[int]:
    """n ports in [first, last] that nothing listens on now (another test run may be using some of the range)."""
    found = []
    for port in range(first, last + 1):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        found.append(port)
        if len(found) == n:
            return found
    if not strict:
        return found
    raise RuntimeError(f"fewer than {n} free ports in {first}-{last}")


def start_server(port: int, env: dict[str, str] | None = None, *, app: str = "web.main:app") -> subprocess.Popen:
    """Start `uvicorn app` on 127.0.0.1:port with os.environ overlaid by `env`. Returns at once (see wait_ready)."""
    log = tempfile.NamedTemporaryFile(prefix=f"gridcmd-{port}-", suffix=".log", delete=False)
    full_env = {**os.environ, **(env or {})}
    # As `gridcmd serve` does (command.cli.server.forwarding): X-Forwarded-For only from GRIDCMD_TRUSTED_PROXIES.
    trusted = full_env.get("GRIDCMD_TRUSTED_PROXIES", "")
    forwarding = ["--forwarded-allow-ips", trusted] if trusted else ["--no-proxy-headers"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port),
         "--log-level", full_env.get("GRIDCMD_TEST_LOG_LEVEL", "warning"), "--ws-max-size", str(64 * 1024),
         "--timeout-graceful-shutdown", full_env.get("GRIDCMD_SHUTDOWN_GRACE_S", "15"),  # as `gridcmd serve`
         *forwarding],
        cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT,
    )
    proc.log_path = log.name  # type: ignore[attr-defined]
    proc.port = port  # type: ignore[attr-defined]
    log.close()
    return proc


def wait_ready(port: int, *, timeout: float = 30.0, proc: subprocess.Popen | None = None) -> None:
    """Poll GET /healthz until it answers 200; raise (with the log tail when `proc` is given) on timeout or exit."""
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}", proc=proc, timeout=timeout, interval=0.1)
    except ServerNotReady as exc:
        tail = log_tail(proc) if proc is not None else ""
        raise RuntimeError(f"port {port}: {exc}\n{tail}") from None


def stop(proc: subprocess.Popen, *, timeout: float = 10.0) -> int:
    """SIGTERM (graceful: lifespan shutdown runs), then SIGKILL if it does not exit in time. Returns the exit code."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)
    return proc.returncode


def kill9(proc: subprocess.Popen) -> None:
    """kill -9: the process dies at whatever line it is on, as in a crash."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)


def log_tail(proc: subprocess.Popen, lines: int = 60) -> str:
    path = getattr(proc, "log_path", None)
    if not path or not os.path.exists(path):
        return ""
    with open(path, encoding="utf-8", errors="replace") as f:
        return "".join(f.readlines()[-lines:])
