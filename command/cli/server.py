"""`gridcmd migrate`, `create-user` and `serve`."""

from __future__ import annotations

import argparse
import asyncio
import os
from typing import TypedDict

from command.cli.spec import Arg, Command
from command.core.models import ROLES
from command.core.settings import Settings


def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    from command.ops.migrate import upgrade

    upgrade(settings)
    print("database at head")
    return 0


def _create_user(args: argparse.Namespace, settings: Settings) -> int:
    from command.admin.users import create_user
    from command.core.db import make_engine, make_sessionmaker

    async def run() -> int:
        engine = make_engine(settings)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                user = await create_user(
                    session,
                    username=args.name,
                    password=args.password,
                    role=args.role,
                    region_code=args.region,
                    department_code=args.department,
                    display_name=args.display_name,
                    phone=args.phone,
                )
                print(f"created user {user.username} (id {user.id}, role {user.role})")
        finally:
            await engine.dispose()
        return 0

    return asyncio.run(run())


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from command.ops.logs import uvicorn_log_config
    from command.ops.metrics import prepare_multiprocess_dir

    if args.workers > 1:  # the workers are spawned after this: each writes its metrics where /metrics sums them
        prepare_multiprocess_dir(os.path.join("var", "metrics", str(os.getpid())))
    uvicorn.run(
        "web.main:app",
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=settings.log_level,
        log_config=uvicorn_log_config(settings),
        ws_max_size=64 * 1024,
        # A rolling restart must not wait forever on one stuck request or socket (docs/operations-upgrades.md).
        timeout_graceful_shutdown=settings.shutdown_grace_s,
        **forwarding(settings),
        **tls(settings),
    )
    return 0


class Tls(TypedDict, total=False):
    """uvicorn.run's TLS options."""

    ssl_certfile: str
    ssl_keyfile: str


def tls(settings: Settings) -> Tls:
    """HTTPS when a certificate is configured (GRIDCMD_TLS_CERT_FILE / GRIDCMD_TLS_KEY_FILE, e.g. from
    `gridcmd ca issue`); a missing file stops the start with its name rather than serving plain HTTP."""
    if not settings.tls_cert_file:
        return {}
    for path in (settings.tls_cert_file, settings.tls_key_file):
        if not path or not os.path.isfile(path):
            raise SystemExit(f"TLS certificate or key not found: {path!r} (GRIDCMD_TLS_CERT_FILE / _KEY_FILE)")
    return {"ssl_certfile": settings.tls_cert_file, "ssl_keyfile": settings.tls_key_file}


class Forwarding(TypedDict, total=False):
    """uvicorn.run's forwarded-header options."""

    proxy_headers: bool
    forwarded_allow_ips: str


def forwarding(settings: Settings) -> Forwarding:
    """uvicorn's X-Forwarded-For handling: believed only from GRIDCMD_TRUSTED_PROXIES (none by default; uvicorn's own
    default would believe any local process)."""
    trusted = ",".join(part.strip() for part in settings.trusted_proxies.split(",") if part.strip())
    return {"proxy_headers": True, "forwarded_allow_ips": trusted} if trusted else {"proxy_headers": False}


MIGRATE = Command("migrate", "apply database migrations (creates PostGIS and the schema)", _migrate)
CREATE_USER = Command(
    "create-user", "create a user account", _create_user,
    (Arg("name"), Arg("--role", required=True, choices=list(ROLES)), Arg("--region"), Arg("--department"),
     Arg("--password", required=True), Arg("--display-name"), Arg("--phone")),
)
SERVE = Command(
    "serve", "run the web server", _serve,
    (Arg("--host", default="127.0.0.1"), Arg("--port", type=int, default=8000),
     Arg("--workers", type=int, default=1, help="number of web processes")),
)
COMMANDS = (MIGRATE, CREATE_USER, SERVE)
