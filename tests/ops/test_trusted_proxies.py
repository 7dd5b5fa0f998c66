"""X-Forwarded-For is believed only from GRIDCMD_TRUSTED_PROXIES (default: nobody): a client cannot choose its own
address, and with it a fresh rate-limit or login-throttle budget, by sending the header. `gridcmd serve` (the real
command, in its own process) hands exactly that list to uvicorn."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from command.cli.server import forwarding
from command.ops.healthcheck import wait_until_healthy
from tests.environment import make_test_settings
from tests.procs import ROOT, free_port, stop


@contextmanager
def gridcmd_serve(settings, **env: str) -> Iterator[str]:
    port = free_port()
    full = {**os.environ, "DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url,
            "GRIDCMD_SECRET_KEY": settings.secret_key, "GRIDCMD_DISPATCH_BACKGROUND": "false",
            "GRIDCMD_LOG_LEVEL": "warning", **env}
    full.pop("FORWARDED_ALLOW_IPS", None)
    proc = subprocess.Popen([sys.executable, "-m", "command.cli", "serve", "--port", str(port)], cwd=ROOT, env=full,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}", proc=proc, timeout=30, interval=0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)


async def _statuses(base: str, forwarded_for: list[str]) -> list[int]:
    url = f"{base}/api/v1/track/{uuid.uuid4()}"
    async with httpx.AsyncClient(timeout=10) as http:
        return [(await http.get(url, headers={"X-Tracking-Token": "x", "X-Forwarded-For": ip})).status_code
                for ip in forwarded_for]


async def test_by_default_a_forwarded_address_changes_nothing(migrated, redis) -> None:
    with gridcmd_serve(migrated, GRIDCMD_RESIDENT_RATE_PER_MIN="3") as base:
        statuses = await _statuses(base, [f"203.0.113.{i}" for i in range(5)])
    assert statuses == [404, 404, 404, 429, 429]  # one client (the peer), whatever the header says


async def test_a_trusted_proxy_forwards_its_clients_addresses(migrated, redis) -> None:
    with gridcmd_serve(migrated, GRIDCMD_RESIDENT_RATE_PER_MIN="3", GRIDCMD_TRUSTED_PROXIES="127.0.0.1") as base:
        assert await _statuses(base, [f"203.0.113.{i}" for i in range(5)]) == [404] * 5  # five clients
        assert await _statuses(base, ["198.51.100.7"] * 4) == [404, 404, 404, 429]  # one client, limited


def test_serve_passes_exactly_the_configured_proxies_to_uvicorn() -> None:
    assert forwarding(make_test_settings()) == {"proxy_headers": False}
    assert forwarding(make_test_settings(trusted_proxies=" 10.0.0.2, 10.1.0.0/16 ,")) == {
        "proxy_headers": True, "forwarded_allow_ips": "10.0.0.2,10.1.0.0/16"}
