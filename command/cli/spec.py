"""What a command of `gridcmd` is: its name, its help, its arguments and its handler, declared together."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from command.core.settings import Settings

Handler = Callable[[argparse.Namespace, Settings], int]


@dataclass(frozen=True, slots=True)
class Arg:
    """One argparse argument: `Arg("--port", type=int, default=8000)` is `parser.add_argument("--port", …)`."""

    flags: tuple[str, ...]
    options: dict[str, Any] = field(default_factory=dict)

    def __init__(self, *flags: str, **options: Any) -> None:
        object.__setattr__(self, "flags", flags)
        object.__setattr__(self, "options", options)


def stop_on_signal() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM, for commands that run until stopped (call inside the running loop)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    return stop


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    help: str
    run: Handler
    args: tuple[Arg, ...] = ()

    def add_to(self, sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
        parser = sub.add_parser(self.name, help=self.help)
        for arg in self.args:
            parser.add_argument(*arg.flags, **arg.options)
