"""`gridcmd backup` and `gridcmd restore` (docs/operations-backup.md)."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path

from command.cli.spec import Arg, Command
from command.core.settings import Settings


def _libpq_url(url: str) -> str:
    """pg_basebackup speaks libpq: no SQLAlchemy driver suffix."""
    scheme, rest = url.split("://", 1)
    return "postgresql://" + rest if scheme.startswith("postgres") else url


def _backup(args: argparse.Namespace, settings: Settings) -> int:
    from command.ops.backup import BackupError, archive_command, take_backup

    backup_dir = Path(settings.backup_dir)
    if args.print_archive_command:
        print(archive_command(backup_dir))
        return 0
    try:
        made = take_backup(database_url=_libpq_url(settings.database_url), backup_dir=backup_dir,
                           upload_dir=Path(settings.upload_dir), keep=settings.backup_keep)
    except BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"base backup {made.path} ({made.started_at.isoformat()} – {made.finished_at.isoformat()}), "
          f"first WAL {made.first_wal}; keeping the newest {settings.backup_keep}")
    return 0


def _restore(args: argparse.Namespace, settings: Settings) -> int:
    from command.ops.backup import BackupError, prepare_restore

    try:
        to = datetime.fromisoformat(args.to)
        used = prepare_restore(backup_dir=Path(settings.backup_dir), to=to, data_dir=Path(args.data_dir),
                               upload_dir=Path(args.uploads or settings.upload_dir))
    except (BackupError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"prepared {args.data_dir} from base backup {used.path.name}, to replay WAL up to {to.isoformat()}.\n"
          "Next: chown -R postgres to it, start PostgreSQL on it (pg_ctl -D … start); it promotes itself when "
          "the time is reached (SELECT pg_is_in_recovery() turns false). Point DATABASE_URL at it, then run "
          "`gridcmd rebuild-live` and start the web processes: walls reconnect and refetch.")
    return 0


BACKUP = Command(
    "backup", "take a base backup of PostgreSQL and the uploaded photos, then apply the retention", _backup,
    (Arg("--print-archive-command", action="store_true",
         help="print the archive_command for postgresql.conf and exit"),),
)
RESTORE = Command(
    "restore", "prepare a PostgreSQL data directory restored to a point in time (and the photos)", _restore,
    (Arg("--to", required=True, help="the point in time, ISO 8601 with a zone, e.g. 2026-12-07T09:30:00+08:00"),
     Arg("--data-dir", required=True, help="a new, empty directory for the restored cluster"),
     Arg("--uploads", help="where to unpack the photos (default: GRIDCMD_UPLOAD_DIR)")),
)
COMMANDS = (BACKUP, RESTORE)
