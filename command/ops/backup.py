"""Continuous backup of PostgreSQL and the uploaded photos, and point-in-time restore (docs/operations-backup.md).

The backup directory holds:

    wal/                          WAL segments, copied there by PostgreSQL's archive_command (`archive_command()`)
    base/<UTC timestamp>/         one base backup: base.tar.gz and pg_wal.tar.gz (pg_basebackup -Ft -z -X stream),
                                  uploads.tar.gz (the photos), meta.json (when it started and finished, first WAL)

`take_backup` makes a base backup and applies the retention (the newest `keep` base backups, and the WAL the
oldest of them needs). `prepare_restore` builds a data directory that, once PostgreSQL starts on it, replays the
archived WAL up to a time and promotes itself; the photos are unpacked next to it. Nothing here starts or stops
PostgreSQL: the operator (or the test) does, then rebuilds Redis with `gridcmd rebuild-live`."""

from __future__ import annotations

import glob
import json
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

WAL_SEGMENT_BYTES = 16 * 1024 * 1024  # PostgreSQL's default (initdb --wal-segsize)
_STAMP = "%Y%m%dT%H%M%S%fZ"


class BackupError(RuntimeError):
    """A backup or restore step failed; the message says which and why."""


@dataclass(frozen=True)
class BaseBackup:
    path: Path
    started_at: datetime
    finished_at: datetime
    first_wal: str


def archive_command(backup_dir: Path) -> str:
    """The archive_command for postgresql.conf: copy each finished WAL segment once (never overwrite one)."""
    wal = (backup_dir / "wal").resolve()
    return f"test ! -f {wal}/%f && cp %p {wal}/%f"


def wal_file_name(timeline: int, lsn: int) -> str:
    """The WAL segment file holding `lsn` (16 MB segments)."""
    segno = lsn // WAL_SEGMENT_BYTES
    per_id = 0x1_0000_0000 // WAL_SEGMENT_BYTES
    return f"{timeline:08X}{segno // per_id:08X}{segno % per_id:08X}"


def _first_wal(manifest: Path) -> str:
    """The first WAL segment a base backup needs, from its backup_manifest (WAL-Ranges)."""
    ranges = json.loads(manifest.read_text())["WAL-Ranges"][0]
    hi, lo = ranges["Start-LSN"].split("/")
    return wal_file_name(int(ranges["Timeline"]), (int(hi, 16) << 32) + int(lo, 16))


def list_backups(backup_dir: Path) -> list[BaseBackup]:
    """Complete base backups (with meta.json), oldest first."""
    found = []
    for meta_path in sorted((backup_dir / "base").glob("*Z/meta.json")):  # not a .partial one
        meta = json.loads(meta_path.read_text())
        found.append(BaseBackup(meta_path.parent, datetime.fromisoformat(meta["started_at"]),
                                datetime.fromisoformat(meta["finished_at"]), meta["first_wal"]))
    return found


def _tool(name: str, bindir: Path | None) -> str:
    """A PostgreSQL program: from `bindir`, else PATH, else the newest server's bin directory (Debian keeps
    pg_archivecleanup there, off PATH)."""
    if bindir is not None:
        return str(bindir / name)
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    if not candidates:
        raise BackupError(f"{name} not found (install the PostgreSQL server package)")
    return candidates[-1]


def _run(cmd: list[str]) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{cmd[0]} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")


def take_backup(*, database_url: str, backup_dir: Path, upload_dir: Path, keep: int,
                bindir: Path | None = None) -> BaseBackup:
    """A base backup of the whole PostgreSQL cluster plus the uploads, then retention. `database_url` is a libpq
    URL of a user allowed to replicate."""
    (backup_dir / "wal").mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    target = backup_dir / "base" / started.strftime(_STAMP)
    partial = target.with_name(target.name + ".partial")
    _run([_tool("pg_basebackup", bindir), "-d", database_url, "-D", str(partial), "-Ft", "-z", "-X", "stream",
          "--checkpoint=fast"])
    with tarfile.open(partial / "uploads.tar.gz", "w:gz") as tar:
        if upload_dir.is_dir():
            tar.add(upload_dir, arcname="uploads")
    finished = datetime.now(UTC)
    first_wal = _first_wal(partial / "backup_manifest")
    (partial / "meta.json").write_text(json.dumps({
        "started_at": started.isoformat(), "finished_at": finished.isoformat(), "first_wal": first_wal}))
    partial.rename(target)  # a backup is listed only once complete
    apply_retention(backup_dir, keep=keep, bindir=bindir)
    return BaseBackup(target, started, finished, first_wal)


def apply_retention(backup_dir: Path, *, keep: int, bindir: Path | None = None) -> list[Path]:
    """Drop all but the newest `keep` base backups, and the archived WAL older than the oldest one kept."""
    backups = list_backups(backup_dir)
    dropped = [b.path for b in backups[:-keep]] if keep > 0 else []
    for path in dropped:
        shutil.rmtree(path)
    kept = backups[-keep:] if keep > 0 else backups
    if kept:
        _run([_tool("pg_archivecleanup", bindir), str(backup_dir / "wal"), kept[0].first_wal])
    return dropped


def choose_backup(backup_dir: Path, to: datetime) -> BaseBackup:
    """The newest base backup finished before `to` (replay can only start from a consistent point before it)."""
    usable = [b for b in list_backups(backup_dir) if b.finished_at < to]
    if not usable:
        raise BackupError(f"no base backup finished before {to.isoformat()}")
    return usable[-1]


def prepare_restore(*, backup_dir: Path, to: datetime, data_dir: Path, upload_dir: Path) -> BaseBackup:
    """Build `data_dir` (which must not exist) so that PostgreSQL started on it replays to `to` and promotes; unpack
    the base backup's photos into `upload_dir`. Returns the base backup used."""
    if to.tzinfo is None:
        raise BackupError("the restore time needs a zone (e.g. 2026-12-07T01:30:00+08:00)")
    if data_dir.exists() and any(data_dir.iterdir()):
        raise BackupError(f"{data_dir} is not empty: restore into a new directory")
    base = choose_backup(backup_dir, to)
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    data_dir.chmod(0o700)
    with tarfile.open(base.path / "base.tar.gz") as tar:
        tar.extractall(data_dir, filter="tar")
    with tarfile.open(base.path / "pg_wal.tar.gz") as tar:
        tar.extractall(data_dir / "pg_wal", filter="tar")
    wal = (backup_dir / "wal").resolve()
    with (data_dir / "postgresql.auto.conf").open("a") as conf:
        conf.write(f"\n# gridcmd restore (point in time: {to.isoformat()}, base backup {base.path.name})\n"
                   f"restore_command = 'cp {wal}/%f %p'\n"
                   f"recovery_target_time = '{to.isoformat()}'\n"
                   "recovery_target_action = 'promote'\n"
                   "archive_mode = 'off'\n")
    (data_dir / "recovery.signal").touch()
    upload_dir.mkdir(parents=True, exist_ok=True)
    with tarfile.open(base.path / "uploads.tar.gz") as tar:
        for member in tar.getmembers():
            if member.name.startswith("uploads/") and member.isfile():
                member.name = member.name.removeprefix("uploads/")
                tar.extract(member, upload_dir, filter="data")
    return base
