"""The `gridcmd` command line: every command, in the order `gridcmd --help` lists them.

Each module of command/cli declares its commands as `Command` values (name, help, arguments, handler together) in
its `COMMANDS`; this registry only lists the modules. Adding a command to a module edits that module; a new module
adds one name below. Nothing registers itself on import."""

from __future__ import annotations

import argparse
import sys

from pydantic import ValidationError

from command.cli import (
    accounts,
    backup,
    ca,
    cap,
    demo,
    devices,
    live,
    open311,
    privacy,
    regions,
    scheduler,
    server,
)
from command.cli.spec import Command
from command.core.errors import GridcmdError
from command.core.settings import Settings, settings_problem

COMMANDS: dict[str, Command] = {
    c.name: c for module in (server, ca, regions, accounts, open311, devices, cap, demo, live, scheduler, privacy,
                             backup)
    for c in module.COMMANDS
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gridcmd", description="Grid command centre")
    sub = parser.add_subparsers(dest="command", required=True)
    for cmd in COMMANDS.values():
        cmd.add_to(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:  # e.g. an unsafe GRIDCMD_SECRET_KEY: say so plainly, start nothing
        print(f"error: {settings_problem(exc)}", file=sys.stderr)
        return 2
    try:
        return COMMANDS[args.command].run(args, settings)
    except GridcmdError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
