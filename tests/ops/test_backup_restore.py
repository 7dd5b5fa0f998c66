"""Point-in-time restore drill (docs/operations-backup.md): a scratch PostgreSQL with WAL archiving on, a base backup
(with the uploaded photos), N alerts, the time noted, N more alerts, then a restore to the noted time on another
scratch instance: exactly the first N are there, the photo too, and none of the later ones.

The acceptance's 1,000 + 1,000 runs in CI (a few seconds); GRIDCMD_DRILL_ALERTS changes N."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from command.ops.backup import BackupError, archive_command, list_backups, prepare_restore, take_backup
from tests.environment import make_test_settings
from tests.pg_cluster import OwnPostgres

N = int(os.environ.get("GRIDCMD_DRILL_ALERTS", "1000"))


class ArchivingPostgres(OwnPostgres):
    """OwnPostgres with archive_mode on, archiving into `backup_dir`/wal."""

    def __init__(self, backup_dir: Path) -> None:
        super().__init__()
        self.backup_dir = backup_dir

    def start(self) -> None:
        conf = self.data / "postgresql.conf"
        with conf.open("a") as f:
            f.write(f"\narchive_mode = on\narchive_command = '{archive_command(self.backup_dir)}'\n"
                    "archive_timeout = 1\n")
        super().start()


def _own(path: Path) -> None:
    if os.geteuid() == 0:
        subprocess.run(["chown", "-R", "postgres:postgres", str(path)], check=True)


@pytest.fixture
def backup_dir() -> Iterator[Path]:
    # Not under pytest's tmp_path: as root that is private to root, and the server archives as `postgres`.
    path = Path(tempfile.mkdtemp(prefix="gridcmd-backup-"))
    (path / "wal").mkdir()
    _own(path)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def insert_alerts(url: str, start: int, n: int) -> None:
    with psycopg.connect(url) as conn:
        for i in range(start, start + n):  # one transaction each, as the intake commits each alert
            conn.execute("""
                INSERT INTO incidents (public_id, category_code, description, priority, item_type, status, channel,
                                       lon, lat, geom, region_path, idempotency_key)
                VALUES (gen_random_uuid(), 'noise', '演练', 4, 'complaint', 'needs_attention', 'sensor', 116.4,
                        39.9, ST_SetSRID(ST_MakePoint(116.4, 39.9), 4326), '{}', %s)""", (f"drill-{i}",))
            conn.commit()


def switch_and_archive(url: str) -> None:
    """The segment holding the last commits goes to the archive (pg_switch_wal's LSN ends it); wait until it has."""
    with psycopg.connect(url, autocommit=True) as conn:
        lsn = conn.execute("SELECT pg_switch_wal()").fetchone()[0]
        deadline = time.monotonic() + 30
        while conn.execute("SELECT last_archived_wal IS NULL OR pg_walfile_name(%s) > last_archived_wal "
                           "FROM pg_stat_archiver", (lsn,)).fetchone()[0]:
            assert time.monotonic() < deadline, "WAL not archived"
            time.sleep(0.1)


def wait_promoted(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with psycopg.connect(url, connect_timeout=2) as conn:
                if not conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]:
                    return
        except psycopg.OperationalError:
            pass
        assert time.monotonic() < deadline, "the restored instance did not finish recovery"
        time.sleep(0.2)


def test_point_in_time_restore_has_exactly_the_alerts_before_the_time(backup_dir: Path, tmp_path: Path) -> None:
    from command.ops.migrate import upgrade

    uploads = tmp_path / "uploads"
    uploads.mkdir()
    (uploads / "photo-1.jpg").write_bytes(b"\xff\xd8 a photo")
    with ArchivingPostgres(backup_dir) as pg:
        pg.create_database("gridcmd")
        url = pg.url("gridcmd")
        upgrade(make_test_settings(database_url=url))
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("""INSERT INTO categories (code, name_zh, name_en, "group", default_priority, item_type)
                            VALUES ('noise', '噪声', 'Noise', 'service', 4, 'complaint')""")
        t0 = time.monotonic()
        base = take_backup(database_url=pg.url(), backup_dir=backup_dir, upload_dir=uploads, keep=2,
                           bindir=pg.bindir)
        backup_s = time.monotonic() - t0
        insert_alerts(url, 0, N)
        time.sleep(0.05)
        noted = datetime.now(UTC)
        time.sleep(0.05)
        insert_alerts(url, N, N)
        switch_and_archive(url)

    restored = OwnPostgres()
    try:
        shutil.rmtree(restored.data)
        t0 = time.monotonic()
        used = prepare_restore(backup_dir=backup_dir, to=noted, data_dir=restored.data, upload_dir=tmp_path / "back")
        _own(restored.data)
        restored.start()
        wait_promoted(restored.url("gridcmd"))
        restore_s = time.monotonic() - t0
        with psycopg.connect(restored.url("gridcmd")) as conn:
            keys = {k for (k,) in conn.execute("SELECT idempotency_key FROM incidents").fetchall()}
    finally:
        restored.close()
    print(f"\nrestore drill: base backup {backup_s:.1f} s; {N} alerts, time noted, {N} more; restored to the noted "
          f"time in {restore_s:.1f} s: {len(keys)} incidents")
    assert used.path == base.path
    assert keys == {f"drill-{i}" for i in range(N)}  # exactly the first N: none after the noted time
    assert (tmp_path / "back" / "photo-1.jpg").read_bytes() == b"\xff\xd8 a photo"


def test_retention_keeps_the_newest_backups_and_their_wal(backup_dir: Path, tmp_path: Path) -> None:
    with ArchivingPostgres(backup_dir) as pg:
        for _ in range(3):
            take_backup(database_url=pg.url(), backup_dir=backup_dir, upload_dir=tmp_path, keep=2, bindir=pg.bindir)
            with psycopg.connect(pg.url(), autocommit=True) as conn:
                conn.execute("SELECT pg_switch_wal()")
    kept = list_backups(backup_dir)
    assert len(kept) == 2
    wal = sorted(p.name for p in (backup_dir / "wal").iterdir() if len(p.name) == 24)
    assert wal and wal[0] >= kept[0].first_wal  # nothing older than the oldest kept backup needs


def test_restore_refuses_what_it_cannot_do(backup_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="no base backup"):
        prepare_restore(backup_dir=backup_dir, to=datetime.now(UTC), data_dir=tmp_path / "d", upload_dir=tmp_path)
    with pytest.raises(BackupError, match="zone"):
        prepare_restore(backup_dir=backup_dir, to=datetime.now(), data_dir=tmp_path / "d", upload_dir=tmp_path)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").touch()
    with pytest.raises(BackupError, match="not empty"):
        prepare_restore(backup_dir=backup_dir, to=datetime.now(UTC), data_dir=tmp_path / "full", upload_dir=tmp_path)


def test_cli_prints_the_archive_command_and_refuses_a_bad_time(backup_dir: Path, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from command.cli.registry import main

    monkeypatch.setenv("GRIDCMD_BACKUP_DIR", str(backup_dir))
    monkeypatch.setenv("GRIDCMD_SECRET_KEY", "test-secret-key-for-gridcmd-tests-0123456789")
    assert main(["backup", "--print-archive-command"]) == 0
    assert capsys.readouterr().out.strip() == f"test ! -f {backup_dir}/wal/%f && cp %p {backup_dir}/wal/%f"
    assert main(["restore", "--to", "yesterday", "--data-dir", str(tmp_path / "d")]) == 1
    assert "error:" in capsys.readouterr().err
    assert main(["restore", "--to", "2026-12-07T09:30:00+08:00", "--data-dir", str(tmp_path / "d")]) == 1
    assert "no base backup" in capsys.readouterr().err


async def test_after_a_restore_rebuild_live_and_a_wall_works(backup_dir: Path, tmp_path: Path) -> None:
    """The restored database serves: `gridcmd rebuild-live` rebuilds Redis from it, a web process starts on it and
    a wall display connected there receives a new alert."""
    import sys

    import httpx
    from redis.asyncio import Redis

    from command.core.db import make_engine, make_sessionmaker
    from command.ops.migrate import upgrade
    from tests.dispatch_fixtures import add_user, at, seed_world
    from tests.procs import free_port, log_tail, server_env, start_server, stop, wait_ready
    from tests.ws_helpers import close_all, events, open_ws, subscribe

    with ArchivingPostgres(backup_dir) as pg:
        pg.create_database("gridcmd")
        settings = make_test_settings(database_url=pg.url("gridcmd"))
        upgrade(settings)
        engine = make_engine(settings)
        try:
            async with make_sessionmaker(engine)() as s, s.begin():
                await seed_world(s)
                op = await add_user(s, settings, username="op", role="operator")
        finally:
            await engine.dispose()
        take_backup(database_url=pg.url(), backup_dir=backup_dir, upload_dir=tmp_path, keep=2, bindir=pg.bindir)
        await asyncio.sleep(0.05)
        noted = datetime.now(UTC)
        await asyncio.sleep(0.05)
        # A commit after the time: PostgreSQL refuses a target beyond the last archived WAL ("recovery ended
        # before the configured recovery target was reached").
        await asyncio.to_thread(insert_alerts, pg.url("gridcmd"), 0, 1)
        await asyncio.to_thread(switch_and_archive, pg.url())
    restored = OwnPostgres()
    proc = None
    try:
        shutil.rmtree(restored.data)
        prepare_restore(backup_dir=backup_dir, to=noted, data_dir=restored.data, upload_dir=tmp_path / "back")
        _own(restored.data)
        restored.start()
        await asyncio.to_thread(wait_promoted, restored.url("gridcmd"))
        back = make_test_settings(database_url=restored.url("gridcmd"))
        redis = Redis.from_url(back.redis_url)
        await redis.flushdb()  # the live state is gone with the old installation
        await redis.aclose()
        env = {**os.environ, **server_env(back)}
        rebuilt = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "command.cli", "rebuild-live"],
                                          env=env, capture_output=True, text=True, timeout=60)
        assert rebuilt.returncode == 0, rebuilt.stderr
        port = free_port()
        proc = start_server(port, server_env(back, GRIDCMD_LOG_LEVEL="warning"))
        wait_ready(port, proc=proc)
        wall = await open_ws(port, op.token)
        await subscribe(wall)
        lon, lat = at(1.2, 1.5)
        async with httpx.AsyncClient(timeout=30) as http:
            r = await http.post(f"http://127.0.0.1:{port}/api/v1/alerts", headers=op.headers,
                                json={"category": "noise", "description": "恢复后第一条", "lon": lon, "lat": lat,
                                      "channel": "sensor"})
        assert r.status_code == 201, r.text
        frames = await events(wall, 1, 10.0)
        assert frames[0]["type"] == "event" and frames[0]["event"]["incident_id"] == r.json()["id"], frames
        await close_all()
    finally:
        if proc is not None:
            stop(proc)
            assert "Traceback" not in log_tail(proc, 100_000), log_tail(proc)
        restored.close()
