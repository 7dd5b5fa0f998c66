"""Per-process metrics: request latency by route template (pure ASGI middleware: the template, never the raw
path, so /incidents/{incident_id} is one series, not one per incident) and a sampler that sets this process's
gauges (sockets, their queues, the pools) every few seconds."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from command.core import telemetry
from command.core.redis_client import connections_in_use
from command.ops.metrics import mark_process_gone

SAMPLE_EVERY_S = 2.0


class RequestLatency:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def tracking_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or ("/static" if scope["path"].startswith("/static/")
                                                        else "unmatched")
            telemetry.HTTP_LATENCY.labels(method=scope["method"], route=template,
                                          status=str(status)).observe(time.perf_counter() - started)


def sample(app: FastAPI) -> None:
    state = app.state
    hub = getattr(state, "hub", None)
    clients = list(hub.clients) if hub is not None else []
    depths = [c.queue.qsize() for c in clients]
    telemetry.WS_CLIENTS.set(len(clients))
    telemetry.WS_QUEUED.set(sum(depths))
    telemetry.WS_QUEUE_MAX.set(max(depths, default=0))
    pool = state.engine.pool
    telemetry.DB_POOL_IN_USE.set(pool.checkedout())
    telemetry.DB_POOL_SIZE.set(pool.size())
    telemetry.REDIS_POOL_IN_USE.set(connections_in_use(state.redis))


def install(app: FastAPI) -> None:
    async def loop(app: FastAPI) -> None:
        while True:
            with contextlib.suppress(Exception):  # a gauge that cannot be read now is read next time
                sample(app)
            await asyncio.sleep(SAMPLE_EVERY_S)

    async def start(app: FastAPI) -> None:
        app.state.metrics_sampler = asyncio.create_task(loop(app), name="gridcmd-metrics-sampler")

    async def stop(app: FastAPI) -> None:
        app.state.metrics_sampler.cancel()
        with contextlib.suppress(BaseException):
            await app.state.metrics_sampler
        mark_process_gone(os.getpid())

    app.state.startup_hooks.append(start)
    app.state.shutdown_hooks.append(stop)
