"""The closed-loop job (command.ops.jobs) inside a web process, when GRIDCMD_RUN_JOBS_IN_WEB=1. It is safe in
every process at once (each deadline and report is claimed in PostgreSQL); off by default so that a
deployment chooses where it runs (`gridcmd scheduler` otherwise)."""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import FastAPI

from command.ops.jobs import run


def install(app: FastAPI) -> None:
    async def start(app: FastAPI) -> None:
        app.state.loop_jobs = None
        if app.state.settings.run_jobs_in_web:
            app.state.loop_jobs_stop = asyncio.Event()
            app.state.loop_jobs = asyncio.create_task(run(app.state.settings, app.state.sessionmaker,
                                                          app.state.redis, stop=app.state.loop_jobs_stop))

    async def stop(app: FastAPI) -> None:
        task = getattr(app.state, "loop_jobs", None)
        if task is not None:
            app.state.loop_jobs_stop.set()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, timeout=10)

    app.state.startup_hooks.append(start)
    app.state.shutdown_hooks.append(stop)
