"""The async engine and session factory (the tables and their declarative base are in command.core.models)."""

from __future__ import annotations

import contextlib
from typing import Any

from sqlalchemy import MetaData, event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

from command.core.settings import Settings
from geo.db import GeoBase


def make_engine(settings: Settings, *, url: str = "", connect_timeout_s: float | None = None,
                read_only: bool = False, **kwargs: object) -> AsyncEngine:
    """The primary's engine; with `url`, another server's (the read replica: `read_only` makes every transaction
    read-only, `connect_timeout_s` also bounds the wait for a pooled connection, so a slow replica is left for
    the primary quickly)."""
    # No pool_pre_ping: it costs a round trip per checkout; a connection found dead invalidates the pool
    # (SQLAlchemy's disconnect handling) and the next checkout reconnects. JIT off: our statements are
    # short indexed lookups, for which JIT compilation only adds latency. A fixed pool (no overflow): overflow
    # connections are closed as soon as they are checked in, so under load they were opened and closed
    # continuously, each paying the connect and asyncpg's type introspection; on this hardware more concurrent
    # transactions than the pool holds add no throughput, so requests beyond it wait (up to db_pool_timeout_s).
    #
    # Every wait is bounded (docs/faults.md): opening a connection (asyncpg's `timeout`, 60 s by default), the
    # answer to any statement, client side (`command_timeout`: a server that accepts connections and never
    # answers; it also covers the native statements of pgnative.statements, which run on the same asyncpg connections),
    # and a statement's run, server side (`statement_timeout`: PostgreSQL cancels it and the connection lives on).
    server_settings = {"jit": "off", "statement_timeout": str(int(settings.db_statement_timeout_s * 1000))}
    if read_only:
        server_settings["default_transaction_read_only"] = "on"
    opts: dict[str, object] = {
        "pool_size": settings.db_pool_size,
        "max_overflow": 0,
        "pool_timeout": connect_timeout_s or settings.db_pool_timeout_s,
        "pool_recycle": 1800,
        "connect_args": {
            "timeout": connect_timeout_s or settings.db_connect_timeout_s,
            "command_timeout": settings.db_command_timeout_s,
            "server_settings": server_settings,
        },
    }
    opts.update(kwargs)
    engine = create_async_engine(url or settings.async_database_url, **opts)
    watch_disconnects(engine)
    return engine


def _driver_closed(driver_connection: Any) -> bool:
    is_closed = getattr(driver_connection, "is_closed", None)  # asyncpg's; another driver: never discarded here
    return bool(is_closed()) if callable(is_closed) else False


def watch_disconnects(engine: AsyncEngine) -> None:
    """Dead connections never go back into service.

    * At checkout, a connection whose socket asyncpg already saw closed (PostgreSQL restarted or terminated it) is
      discarded and another taken (SQLAlchemy's documented DisconnectionError protocol; a flag check, no round
      trip, so pool_pre_ping stays off). Without this, a connection that died idle was handed out again and again:
      native statements (pgnative) fail outside SQLAlchemy's error handling, which never learnt it was dead, so
      after a restart of PostgreSQL every request failed until the process restarted.
    * A statement that failed because the server is away or did not answer in time (a client-side timeout leaves
      the connection with a cancel in flight) marks the connection disconnected: SQLAlchemy then drops it, and
      every connection of the pool older than the failure."""

    @event.listens_for(engine.sync_engine.pool, "checkout")
    def _discard_closed(dbapi_connection: Any, record: ConnectionPoolEntry, proxy: PoolProxiedConnection) -> None:
        if _driver_closed(proxy.driver_connection):
            raise DisconnectionError("connection closed by the server")

    @event.listens_for(engine.sync_engine, "handle_error")
    def _mark_disconnect(context: ExceptionContext) -> None:
        exc = context.original_exception
        # OSError: a refused/reset socket, and TimeoutError (an OSError): no answer within command_timeout.
        # InterfaceError: asyncpg's "connection is closed" / "another operation is in progress".
        if not context.is_disconnect and isinstance(exc, (OSError, context.dialect.loaded_dbapi.InterfaceError)):
            context.is_disconnect = True
            if isinstance(exc, TimeoutError) and context.connection is not None:
                # Closed at once: SQLAlchemy's graceful close would wait (2 s) for the server that did not answer.
                with contextlib.suppress(Exception):
                    driver = context.connection.connection.driver_connection
                    if driver is not None:
                        driver.terminate()


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def all_metadata() -> list[MetaData]:
    """The metadata of each layer with every table mapped (Alembic, tests)."""
    import geo.models  # noqa: F401  (mapping geo's tables is importing them)
    from command.core import models

    return [GeoBase.metadata, models.Base.metadata]
