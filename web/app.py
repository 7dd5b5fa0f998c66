"""FastAPI factory. Pools are opened in lifespan and kept on app.state; nothing connects at import."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from command.core.db import make_engine, make_sessionmaker
from command.core.redis_client import make_redis
from command.core.redis_client import ready as redis_ready
from command.core.replica import make_read_replica
from command.core.security import dummy_hash
from command.core.settings import Settings
from web import access_log
from web.account_watch import install as install_account_watch
from web.dispatch_tasks import install as install_dispatch
from web.errors import register_error_handlers
from web.hub import install as install_realtime
from web.loop_tasks import install as install_loop_jobs
from web.metrics_tasks import RequestLatency
from web.metrics_tasks import install as install_metrics
from web.middleware import BodySizeLimit
from web.openapi_errors import document_errors
from web.osmand_fast import OsmandFirstApp
from web.read_your_writes import ReadYourWrites
from web.request_id import RequestId
from web.request_types import refuse_control_characters
from web.routers import ROUTERS
from web.track_tasks import install as install_track_writer
from web.ws_transport import SocketLimits

STATIC_DIR = Path(__file__).resolve().parent / "static"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.engine = make_engine(settings)
        app.state.sessionmaker = make_sessionmaker(app.state.engine)
        # Read routes on the primary: BEGIN READ ONLY, so a read route that writes fails here as on the replica,
        # at no extra round trip (a SET TRANSACTION after BEGIN would be one per request).
        app.state.read_sessionmaker = make_sessionmaker(app.state.engine.execution_options(postgresql_readonly=True))
        app.state.read_replica = make_read_replica(settings)  # None: reads on the primary
        if app.state.read_replica is not None:
            await app.state.read_replica.check()  # a verdict before the first request (bounded, never raises)
        app.state.redis = make_redis(settings)
        await redis_ready(app.state.redis)  # a cluster client learns the slots before the hooks' tasks use it
        access_log.install()  # uvicorn has configured logging by now
        # Computed now, not by the first login for an unknown user (which would take longer: command.core.security).
        await asyncio.to_thread(dummy_hash)
        for hook in app.state.startup_hooks:
            await hook(app)
        # Everything built at startup (modules, metadata, compiled statements) lives as long as the process: out
        # of the collector's sight, a full collection no longer walks it. The benchmark saw full collections of
        # 240-320 ms at once in every process of a 60 s run at 500 alerts/s, the tail of its latency.
        gc.freeze()
        try:
            yield
        finally:
            gc.unfreeze()  # an app stopped in a process that goes on (tests) leaves nothing pinned
            for hook in reversed(app.state.shutdown_hooks):
                await hook(app)
            await app.state.redis.aclose()
            if app.state.read_replica is not None:
                await app.state.read_replica.close()
            await app.state.engine.dispose()

    # No control character in any query, path or form value, typed by the route or not (web.request_types).
    # OsmandFirstApp: GPS apps' GET reports are answered ahead of the stack (web.osmand_fast).
    app = OsmandFirstApp(title="gridcmd", version="0.1.0", lifespan=lifespan,
                  dependencies=[Depends(refuse_control_characters)])
    app.state.settings = settings
    # Background services (event fan-out, sweeper…) register async hooks here: fn(app) -> None.
    app.state.startup_hooks = []
    app.state.shutdown_hooks = []
    install_account_watch(app)
    install_dispatch(app)
    install_realtime(app)
    install_loop_jobs(app)
    install_track_writer(app)
    install_metrics(app)
    register_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    document_errors(app)  # every route's error statuses in the OpenAPI document (web.openapi_errors)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes,
                       max_upload_bytes=settings.max_upload_bytes, max_admin_file_bytes=settings.max_admin_file_bytes)
    if settings.database_read_url:  # reads of a browser that just wrote stay on the primary (docs/replica.md)
        app.add_middleware(ReadYourWrites, hold_s=settings.read_replica_max_lag_s + settings.read_replica_check_s)
    app.add_middleware(RequestLatency)  # the whole request, refusals by the size limit included
    app.add_middleware(RequestId)  # outside both: a refused body's lines and response carry the id too
    app.add_middleware(SocketLimits, send_buffer_bytes=settings.ws_send_buffer_bytes)  # sees the server's own
    # `send` (web.ws_transport)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict:
        return {"ok": True}

    return app
