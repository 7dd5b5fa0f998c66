"""Wait for a freshly started gridcmd server: poll GET /healthz until it answers, its process exits, or time runs out.

Shared by the demo launcher, the benchmark and the tests, which start servers as subprocesses."""

from __future__ import annotations

import subprocess
import time
from typing import Any

import httpx


class ServerNotReady(RuntimeError):
    """The server exited, or did not answer /healthz in time."""


def wait_until_healthy(base_url: str, *, proc: subprocess.Popen[Any] | None = None, timeout: float = 60.0,
                       interval: float = 0.2) -> None:
    """Return once `base_url`/healthz answers 200; raise ServerNotReady if `proc` exits first or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise ServerNotReady(f"the server exited with code {proc.returncode}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1.0).status_code == 200:
                # Answered — by our process? Another run's server on the same port would answer too.
                if proc is not None and proc.poll() is not None:
                    raise ServerNotReady(f"the server exited with code {proc.returncode}")
                return
        except httpx.HTTPError:
            pass
        time.sleep(interval)
    raise ServerNotReady(f"the server did not answer at {base_url} within {timeout:.0f} s")
