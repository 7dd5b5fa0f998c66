"""scripts/rolling-restart.sh: one process at a time, each ready (GET /readyz 200) before the next, and a process
that does not come back stops the roll with the rest untouched. The processes here are plain HTTP servers that
answer /readyz (the script only speaks HTTP to them); the real web processes are restarted under load in
test_rolling_restart.py."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.procs import ROOT, free_port

SCRIPT = ROOT / "scripts" / "rolling-restart.sh"


@pytest.fixture
def ready_servers(tmp_path: Path) -> Iterator[list[int]]:
    (tmp_path / "readyz").write_text("ok")
    ports = [free_port(), free_port()]
    procs = [subprocess.Popen([sys.executable, "-m", "http.server", str(p), "--bind", "127.0.0.1",
                               "--directory", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for p in ports]
    try:
        for port in ports:
            deadline = time.monotonic() + 10
            while subprocess.run(["curl", "-fs", "-o", "/dev/null", f"http://127.0.0.1:{port}/readyz"]).returncode:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        yield ports
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(5)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, timeout=30)


def test_restarts_each_port_in_order_once_ready(ready_servers: list[int], tmp_path: Path) -> None:
    log = tmp_path / "restarted"
    a, b = ready_servers
    r = run("-c", f"echo {{port}} >> {log}", str(a), str(b))
    assert r.returncode == 0, r.stderr
    assert log.read_text().split() == [str(a), str(b)]
    assert "all 2 processes restarted" in r.stdout


def test_a_process_that_does_not_come_back_stops_the_roll(ready_servers: list[int], tmp_path: Path) -> None:
    log = tmp_path / "restarted"
    a, b = ready_servers
    # The "restart" of the first leaves it unready (its /readyz now 404): the second is never touched.
    r = run("-t", "2", "-c", f"echo {{port}} >> {log}; rm -f {tmp_path / 'readyz'}", str(a), str(b))
    assert r.returncode == 1
    assert f"127.0.0.1:{a} not ready after 2s" in r.stderr
    assert log.read_text().split() == [str(a)]


def test_a_process_not_ready_before_is_not_restarted(ready_servers: list[int], tmp_path: Path) -> None:
    log = tmp_path / "restarted"
    dead = free_port()
    r = run("-t", "2", "-c", f"echo {{port}} >> {log}", str(ready_servers[0]), str(dead), str(ready_servers[1]))
    assert r.returncode == 1 and "not ready before its restart" in r.stderr
    assert log.read_text().split() == [str(ready_servers[0])]


def test_bad_arguments(ready_servers: list[int]) -> None:
    assert run().returncode == 2
    assert run("not-a-port").returncode == 2
