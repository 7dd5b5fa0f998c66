"""The simulator's HTTP side: log in, call the API, survive a server that restarts or lacks a route yet.

Connection errors and 5xx answers are retried with exponential backoff (capped, jittered) until the call
succeeds or the simulator stops; a 401 logs in again once; a route the server does not have yet (FastAPI's
bare 404/405) is remembered, logged once, and skipped for a while instead of being hammered."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass
from typing import Any

import httpx

log = logging.getLogger("gridcmd.simulate")

BACKOFF_START_S = 0.5
BACKOFF_MAX_S = 15.0
MISSING_RETRY_S = 60.0


class Stopped(Exception):
    """The simulator is stopping; the call was abandoned."""


@dataclass
class Login:
    username: str
    password: str
    token: str | None = None
    worker_id: int | None = None


class Api:
    def __init__(self, base_url: str, stop: asyncio.Event, *, timeout: float = 10.0) -> None:
        self.http = httpx.AsyncClient(base_url=base_url, timeout=timeout,
                                      limits=httpx.Limits(max_connections=16, max_keepalive_connections=16))
        self.stop = stop
        self.missing: dict[str, float] = {}  # route → monotonic time to look again
        self.errors = 0
        self.down_since: float | None = None

    async def aclose(self) -> None:
        await self.http.aclose()

    def available(self, route: str) -> bool:
        return time.monotonic() >= self.missing.get(route, 0.0)

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self.stop.wait(), timeout=seconds)
        except TimeoutError:
            return
        raise Stopped

    async def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One request, retried until the server answers with something other than 5xx."""
        delay = BACKOFF_START_S
        while True:
            if self.stop.is_set():
                raise Stopped
            try:
                r = await self.http.request(method, url, **kwargs)
                if r.status_code < 500:
                    if self.down_since is not None:
                        log.info("server is back after %.0f s", time.monotonic() - self.down_since)
                        self.down_since = None
                    return r
                reason = f"HTTP {r.status_code}"
            except httpx.TransportError as exc:
                reason = type(exc).__name__
            self.errors += 1
            if self.down_since is None:
                self.down_since = time.monotonic()
                log.warning("%s %s failed (%s); retrying with backoff", method, url, reason)
            await self._sleep(delay * random.uniform(0.7, 1.3))
            delay = min(delay * 2, BACKOFF_MAX_S)

    async def login(self, who: Login) -> str:
        while True:
            r = await self._send("POST", "/api/v1/auth/token", data={"username": who.username,
                                                                      "password": who.password})
            if r.status_code == 200:
                body = r.json()
                who.token, who.worker_id = body["access_token"], body.get("worker_id")
                return who.token
            log.warning("login %s refused (HTTP %s); is the demo loaded? retrying", who.username, r.status_code)
            await self._sleep(BACKOFF_MAX_S)

    async def call(self, who: Login, method: str, route: str, *, headers: dict[str, str] | None = None,
                   **kwargs: object) -> httpx.Response | None:
        """Call as `who`. None when the route is missing on this server (logged once per spell)."""
        if not self.available(route):
            return None
        for attempt in range(2):
            if who.token is None:
                await self.login(who)
            auth = {**(headers or {}), "Authorization": f"Bearer {who.token}"}
            r = await self._send(method, route, headers=auth, **kwargs)
            if r.status_code == 401 and attempt == 0:
                who.token = None  # expired or the secret changed: log in again once
                continue
            if _route_missing(r):
                if route not in self.missing:
                    log.info("%s %s is not on this server yet (HTTP %s); will look again every %.0f s",
                             method, route, r.status_code, MISSING_RETRY_S)
                self.missing[route] = time.monotonic() + MISSING_RETRY_S
                return None
            self.missing.pop(route, None)
            if r.status_code >= 400:
                self.errors += 1
                log.debug("%s %s → %s %s", method, route, r.status_code, r.text[:300])
            return r
        return r


ROUTE_MISSING = ("route_not_found", "method_not_allowed")  # web.errors: no such endpoint (not a domain 404)


def _route_missing(r: httpx.Response) -> bool:
    """The server's answer for an unknown route or method (not a domain NotFound of a real route). Older servers
    answered FastAPI's own {"detail": …}."""
    if r.status_code not in (404, 405):
        return False
    try:
        body = r.json()
    except ValueError:
        return True
    if body in ({"detail": "Not Found"}, {"detail": "Method Not Allowed"}):
        return True
    error = body.get("error") if isinstance(body, dict) else None
    return isinstance(error, dict) and error.get("code") in ROUTE_MISSING
