"""A PostgreSQL server of the test's own, for fault tests: initdb in a temporary directory, a kernel-chosen port,
started, stopped, frozen (SIGSTOP) and thawed at will, without disturbing the shared server of the suite.

    with OwnPostgres() as pg:
        pg.create_database("faults")           # PostGIS comes with the migration
        url = pg.url("faults")
        pg.stop(); pg.start(); pg.freeze(); pg.thaw()

The binaries are the installed server's (pg_config --bindir, else the newest /usr/lib/postgresql/*/bin), so
PostGIS, installed for that server, is available. initdb refuses to run as root: as root, the server runs as the
`postgres` OS user (runuser)."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import psycopg

from tests.procs import free_port


def _bindir() -> Path:
    try:
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True).stdout.strip()
        if (Path(out) / "initdb").exists():
            return Path(out)
    except (OSError, subprocess.CalledProcessError):
        pass
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise RuntimeError("no PostgreSQL server binaries (initdb) found")
    return Path(found[-1]).parent


class OwnPostgres:
    def __init__(self) -> None:
        self.bindir = _bindir()
        self.root = Path(tempfile.mkdtemp(prefix="gridcmd-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self._as_root = os.geteuid() == 0
        if self._as_root:
            shutil.chown(self.root, "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8",
                  "--locale=C.UTF-8")

    def _run(self, tool: str, *args: str) -> None:
        cmd = [str(self.bindir / tool), *args]
        if self._as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=60)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        opts = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=60")
        self._run("pg_ctl", "-D", str(self.data), "-o", opts, "-l", str(self.root / "server.log"), "-w", "start")

    def stop(self) -> None:
        """A fast shutdown: sessions are terminated, as when an operator stops the service."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def _postmaster_pids(self) -> list[int]:
        """The postmaster and every backend (SIGSTOP must freeze the sessions too, not only the listener)."""
        pid = int((self.data / "postmaster.pid").read_text().split()[0])
        children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
        return [pid, *map(int, children)]

    def freeze(self) -> None:
        """Connections stay open and accepted, and nothing answers (a hung server)."""
        self._signal_all(signal.SIGSTOP)

    def thaw(self) -> None:
        self._signal_all(signal.SIGCONT)

    def _signal_all(self, sig: signal.Signals) -> None:
        for pid in self._postmaster_pids():
            try:
                os.kill(pid, sig)
            except ProcessLookupError:  # a backend (or the archiver's command) ended since it was listed
                pass

    def create_database(self, name: str) -> None:
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')

    def close(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self.thaw()
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> OwnPostgres:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


REPLICA_SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "pg-replica.sh"


class OwnReplica(OwnPostgres):
    """A streaming replica of a primary on 127.0.0.1 (an OwnPostgres, or the suite's server on 5432) made by
    scripts/pg-replica.sh (pg_basebackup -R) in a temporary directory on a kernel-chosen port; stopped, started,
    frozen and thawed like OwnPostgres. Base-backed-up when first started: what the primary holds then is there."""

    def __init__(self, primary_port: int = 5432) -> None:  # no initdb: the data is the primary's base backup
        self.primary_port = primary_port
        self.bindir = _bindir()
        self.root = Path(tempfile.mkdtemp(prefix="gridcmd-replica-"))
        self.data = self.root / "data"
        self.port = free_port()
        self._as_root = os.geteuid() == 0
        if self._as_root:
            shutil.chown(self.root, "postgres")

    def script(self, command: str) -> str:
        done = subprocess.run([str(REPLICA_SCRIPT), command, str(self.port), str(self.data)], capture_output=True,
                              text=True, timeout=120, env={**os.environ, "PRIMARY_PORT": str(self.primary_port)})
        if done.returncode != 0 and command != "status":
            raise RuntimeError(f"pg-replica.sh {command}: {done.stdout}{done.stderr}")
        return done.stdout

    def start(self) -> None:
        self.script("start")

    def stop(self) -> None:
        self.script("stop")

    def sql(self, statement: str) -> object:
        with psycopg.connect(self.url(), autocommit=True, connect_timeout=5) as conn:
            row = conn.execute(statement).fetchone()  # type: ignore[arg-type]  (a test's literal statement)
            return row[0] if row else None

    def close(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self.thaw()
                self.stop()  # fast: an immediate stop leaves the walreceiver's exit to a timeout
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
