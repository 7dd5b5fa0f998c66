"""`gridcmd demo` and `gridcmd simulate`."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys

from command.cli.spec import Arg, Command
from command.core.settings import Settings
from command.demo.people import DEMO_PASSWORD
from command.ops.healthcheck import ServerNotReady, wait_until_healthy


async def _load(settings: Settings, seed: int) -> None:
    from command.core.db import make_engine, make_sessionmaker
    from command.demo.load import counts, load_demo

    engine = make_engine(settings)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            report = await load_demo(session, seed=seed, progress=sys.stderr.isatty())
            rows = await counts(session)
    finally:
        await engine.dispose()
    print(f"demo city (seed {report.seed}) loaded in {report.seconds:.1f} s: {report.regions} regions, "
          f"{report.departments} departments, {report.categories} categories, {report.routing_rules} routing rules, "
          f"{report.accounts} accounts ({report.workers} grid workers), {report.resource_points} resource points")
    print("rows now: " + ", ".join(f"{k} {v}" for k, v in rows.items()))


def _banner(base: str) -> str:
    pages = [("指挥大屏 wall display", "/screen"), ("值班台 operator console", "/console"),
             ("网格员 worker app (phone)", "/m"), ("部门联络员 liaison console", "/dept"),
             ("群众上报 resident page", "/r"), ("API docs", "/docs")]
    lines = ["", "gridcmd demo is running:"]
    lines += [f"  {base + path:<34} {label}" for label, path in pages]
    lines += ["", f"Logins (password {DEMO_PASSWORD} for all):",
              "  admin            administrator",
              "  operator         district command-centre operator (区指挥中心)",
              "  op-1 … op-6      street operators (街道)",
              "  supervisor       supervisor (督查)",
              "  l-power, l-water, l-telecom, l-fire, l-civil_affairs   district department liaisons",
              "  l-police-N, l-urban_management-N   police station / urban management of street N",
              "  w0001 … w0320    grid workers (网格员)",
              "Ctrl-C stops the server and the simulator.", ""]
    return "\n".join(lines)


def _wait_healthy(base: str, server: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    try:
        wait_until_healthy(base, proc=server, timeout=timeout, interval=0.3)
    except ServerNotReady as exc:
        raise SystemExit(str(exc)) from None


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    asyncio.run(_load(settings, args.seed))
    if not args.serve:
        return 0
    # The server runs in its own process (so the simulator never competes with it for the event loop);
    # this process runs the simulator and takes the server down with it.
    env = os.environ.copy()
    env.setdefault("GRIDCMD_LOG_LEVEL", "warning")  # keep the banner readable: no access log per position post
    # One process serves the demo, so it also runs the deadline scheduler (reminders, overdue, supervision).
    env.setdefault("GRIDCMD_RUN_JOBS_IN_WEB", "1")
    server = subprocess.Popen(
        [sys.executable, "-m", "command.cli", "serve", "--host", args.host, "--port", str(args.port)], env=env)
    shown = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    local = f"http://127.0.0.1:{args.port}" if args.host in ("0.0.0.0", "::") else f"http://{args.host}:{args.port}"
    try:
        _wait_healthy(local, server)
        print(_banner(f"http://{shown}:{args.port}"), flush=True)
        from command.demo.simulator import run_simulator

        return run_simulator(settings, base_url=local, seed=args.seed, rate=None, duration=0,
                             alive=lambda: server.poll() is None)
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                server.kill()


def _simulate(args: argparse.Namespace, settings: Settings) -> int:
    from command.demo.simulator import run_simulator

    return run_simulator(settings, base_url=args.base_url, seed=getattr(args, "seed", 7), rate=args.rate,
                         duration=args.duration)


DEMO = Command(
    "demo", "generate and load the demo city", _demo,
    (Arg("--seed", type=int, default=7),
     Arg("--serve", action="store_true", help="then serve the app and run the simulator"),
     Arg("--host", default="127.0.0.1"), Arg("--port", type=int, default=8000)),
)
SIMULATE = Command(
    "simulate", "move demo workers and raise believable alerts", _simulate,
    (Arg("--base-url", default="http://127.0.0.1:8000"),
     Arg("--rate", type=float, help="alerts per second (default GRIDCMD_SIMULATE_ALERT_RATE)"),
     Arg("--duration", type=float, default=0, help="seconds; 0 runs until stopped"),
     Arg("--seed", type=int, default=7, help="the seed the demo city was loaded with")),
)
COMMANDS = (DEMO, SIMULATE)
