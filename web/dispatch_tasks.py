"""Dispatch duties of every web process: make sure the live state exists at startup, then run the ack timer
and sweeper loops (unless GRIDCMD_DISPATCH_BACKGROUND=0, when `gridcmd dispatcher` processes run them)."""

from __future__ import annotations

import logging

from fastapi import FastAPI

from command.core import txhooks
from command.core.outage import OUTAGES
from command.ops.background import DispatchBackground
from command.ops.sweeper import ensure_live

log = logging.getLogger("gridcmd.dispatch")


def install(app: FastAPI) -> None:
    async def start(app: FastAPI) -> None:
        settings = app.state.settings
        try:
            await ensure_live(app.state.sessionmaker, app.state.redis, settings)
        except Exception as exc:  # PostgreSQL/Redis not reachable yet: the sweeper retries every tick
            if not OUTAGES.note(exc, where="live state check at startup"):
                log.exception("live state check at startup failed")
        app.state.dispatch_background = None
        if settings.dispatch_background:
            app.state.dispatch_background = DispatchBackground(app.state.sessionmaker, app.state.redis, settings)
            app.state.dispatch_background.start()

    async def stop(app: FastAPI) -> None:
        background = getattr(app.state, "dispatch_background", None)
        if background is not None:
            await background.stop()
        await txhooks.drain()

    app.state.startup_hooks.append(start)
    app.state.shutdown_hooks.append(stop)
