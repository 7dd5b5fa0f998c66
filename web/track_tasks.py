"""The worker-track writer of a web process: every `track_flush_interval_s` the position reports this process
buffered (command/assign/tracks.py) are written with one COPY, and once more at shutdown (none of it when
`track_writes` is off). A failed write (the
database restarting) puts the rows back to be tried again at the next interval (the buffer stays bounded)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from command.assign import tracks
from command.core.outage import OUTAGES

log = logging.getLogger(__name__)


async def flush(sessionmaker: async_sessionmaker[AsyncSession], buffer: tracks.TrackBuffer = tracks.BUFFER) -> int:
    """Write what the buffer holds now; returns the rows written (0 on failure, the rows kept for later)."""
    rows = buffer.take()
    if not rows:
        return 0
    try:
        async with sessionmaker() as session, session.begin():
            n = await tracks.write_rows(session, rows)
    except Exception as exc:
        buffer.put_back(rows)
        if not OUTAGES.note(exc, where="track writer"):
            log.exception("writing %d track rows failed", len(rows))
        return 0
    buffer.written += n
    return n


def install(app: FastAPI) -> None:
    async def loop(app: FastAPI) -> None:
        stop: asyncio.Event = app.state.track_stop
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=app.state.settings.track_flush_interval_s)
            await flush(app.state.sessionmaker)

    async def start(app: FastAPI) -> None:
        app.state.track_stop = asyncio.Event()
        tracks.BUFFER.enabled = app.state.settings.track_writes
        app.state.track_writer = asyncio.create_task(loop(app)) if tracks.BUFFER.enabled else None

    async def stop(app: FastAPI) -> None:
        if app.state.track_writer is None:
            return
        app.state.track_stop.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(app.state.track_writer, timeout=10)

    app.state.startup_hooks.append(start)
    app.state.shutdown_hooks.append(stop)
