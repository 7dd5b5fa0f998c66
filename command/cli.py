"""The `gridcmd` command line."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable

from command.errors import GridcmdError
from command.settings import Settings

COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {}


def command(name: str) -> Callable:
    def register(fn: Callable[[argparse.Namespace, Settings], int]) -> Callable:
        COMMANDS[name] = fn
        return fn

    return register


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gridcmd", description="Grid command centre")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply database migrations (creates PostGIS and the schema)")

    imp = sub.add_parser("import-regions", help="import a GeoJSON FeatureCollection of regions")
    imp.add_argument("file")
    imp.add_argument("--no-progress", action="store_true")

    cu = sub.add_parser("create-user", help="create a user account")
    cu.add_argument("name")
    cu.add_argument("--role", required=True, choices=["admin", "supervisor", "operator", "worker", "liaison"])
    cu.add_argument("--region")
    cu.add_argument("--department")
    cu.add_argument("--password", required=True)
    cu.add_argument("--display-name")
    cu.add_argument("--phone")

    sv = sub.add_parser("serve", help="run the web server")
    sv.add_argument("--host", default="127.0.0.1")
    sv.add_argument("--port", type=int, default=8000)
    sv.add_argument("--workers", type=int, default=1, help="number of web processes")

    demo = sub.add_parser("demo", help="generate and load the demo city")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--serve", action="store_true", help="then serve the app and run the simulator")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)

    sim = sub.add_parser("simulate", help="move demo workers and raise believable alerts")
    sim.add_argument("--base-url", default="http://127.0.0.1:8000")
    sim.add_argument("--rate", type=float, help="alerts per second (default GRIDCMD_SIMULATE_ALERT_RATE)")
    sim.add_argument("--duration", type=float, default=0, help="seconds; 0 runs until stopped")
    sim.add_argument("--seed", type=int, default=7, help="the seed the demo city was loaded with")

    sub.add_parser("rebuild-live", help="rebuild Redis live state from PostgreSQL")
    sub.add_parser("dispatcher", help="run the ack timers and the sweeper (when web processes do not)")
    sch = sub.add_parser("scheduler", help="run the closed-loop job: deadlines, patrol planning, 12345 reports")
    sch.add_argument("--once", action="store_true", help="one pass, then exit")
    sch.add_argument("--interval", type=float, help="seconds between passes (default GRIDCMD_SCHEDULER_INTERVAL_S)")
    return parser


@command("migrate")
def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    from command.migrate import upgrade

    upgrade(settings)
    print("database at head")
    return 0


@command("create-user")
def _create_user(args: argparse.Namespace, settings: Settings) -> int:
    from command.db import make_engine, make_sessionmaker
    from command.users import create_user

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


@command("serve")
def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    uvicorn.run(
        "web.main:app",
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=settings.log_level,
        ws_max_size=64 * 1024,
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    # Modules that add commands register themselves on import.
    import command.cli_commands  # noqa: F401

    args = build_parser().parse_args(argv)
    settings = Settings()
    try:
        return COMMANDS[args.command](args, settings)
    except GridcmdError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    # Run through the importable module, where the commands register themselves (not this __main__ copy).
    from command.cli import main as _main

    sys.exit(_main())
