"""The driver's HTTP client: aiohttp, one keep-alive pool per phase.

aiohttp parses HTTP in C and its pool stays cheap with hundreds of connections; httpx, used before, spent about a
fifth of the driver's time in its pool's bookkeeping (httpcore's _assign_requests_to_connections) at 256
connections, which capped what the open-loop phase could offer (py-spy of the driver, docs/benchmarks.md)."""

from __future__ import annotations

import aiohttp
import orjson

TRANSPORT_ERRORS = (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, TimeoutError)


def _dumps(obj: object) -> str:
    return orjson.dumps(obj).decode()


def session(token: str, *, connections: int, timeout_s: float) -> aiohttp.ClientSession:
    """A client authenticated as `token`, at most `connections` open at once (all to 127.0.0.1)."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=connections, limit_per_host=0, force_close=False),
        headers={"Authorization": f"Bearer {token}"}, json_serialize=_dumps,
        timeout=aiohttp.ClientTimeout(total=timeout_s))
