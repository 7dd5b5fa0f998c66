"""No migration stalls the command centre: each revision is upgraded, one at a time, on a database with rows in
incidents, events and regions, while another session samples pg_locks every few milliseconds. The test fails when a
migration holds a lock that blocks reads (ACCESS EXCLUSIVE) or writes (SHARE or stronger) on one of those tables
for longer than BOUND_MS — a table rewrite, an index built without CONCURRENTLY, a backfill run under an ALTER's
lock (docs/operations-upgrades.md, the expand/contract rule).

The tables hold enough rows here that any of those takes several times the bound on this machine, and a
metadata-only change (ADD COLUMN without a volatile default, a short ALTER) stays far below it."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import psycopg
import pytest
from alembic.script import ScriptDirectory

from command.core.settings import Settings
from command.ops.migrate import alembic_config, upgrade
from tests.environment import BASE_PG, TEST_DB, make_test_settings

BOUND_MS = 150.0  # longest a wall's read (or an alert's write) may wait behind a migration
# Held longer, but for a time that does not grow with the rows: 0002 creates a dozen tables with foreign keys to
# incidents in one transaction (SHARE ROW EXCLUSIVE on incidents until it commits: ~0.3 s on this machine, the same
# on an empty or a full table). Every other migration keeps to the bound.
ROW_INDEPENDENT = {("0002", "incidents", "ShareRowExclusiveLock")}
WATCHED = ("incidents", "events", "regions")
BLOCKS_WRITES = ("ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock")
EVENTS = int(os.environ.get("GRIDCMD_LOCK_TEST_EVENTS", "300000"))
INCIDENTS = EVENTS // 4
REGIONS = 20000
SCRATCH_DB = f"{TEST_DB}_locks"


@dataclass
class Holds:
    """Per (table, lock mode): the longest continuous run of samples in which the migration held it."""

    longest_ms: dict[tuple[str, str], float] = field(default_factory=dict)
    _since: dict[tuple[str, str], float] = field(default_factory=dict)

    def sample(self, now: float, held: set[tuple[str, str]]) -> None:
        for key in held:
            self._since.setdefault(key, now)
            self.longest_ms[key] = max(self.longest_ms.get(key, 0.0), (now - self._since[key]) * 1000)
        for key in set(self._since) - held:
            del self._since[key]


class LockWatcher:
    """Samples pg_locks from its own connection while a migration runs in the test's thread."""

    QUERY = """
        SELECT c.relname, l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
         WHERE l.granted AND l.pid <> pg_backend_pid() AND l.database = (SELECT oid FROM pg_database
                                                                          WHERE datname = current_database())
           AND c.relname = ANY(%s) AND l.mode = ANY(%s)"""

    def __init__(self, url: str) -> None:
        self.conn = psycopg.connect(url, autocommit=True)
        self.holds = Holds()
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            rows = self.conn.execute(self.QUERY, (list(WATCHED), list(BLOCKS_WRITES))).fetchall()
            self.holds.sample(time.monotonic(), {(r[0], r[1]) for r in rows})
            self.samples += 1
            time.sleep(0.002)

    def __enter__(self) -> LockWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.conn.close()


SEED = f"""
INSERT INTO categories (code, name_zh, name_en, "group", default_priority, item_type)
     VALUES ('noise', '噪音', 'Noise', 'city', 3, 'complaint');
INSERT INTO regions (code, name, level, depth, path, geom)
SELECT 'r' || i, '网格' || i, 'microgrid', 4, ARRAY['r' || i],
       ST_Multi(ST_MakeEnvelope(i % 200 * 0.001, i / 200 * 0.001, i % 200 * 0.001 + 0.001, i / 200 * 0.001 + 0.001,
                                4326))
  FROM generate_series(1, {REGIONS}) i;
INSERT INTO incidents (public_id, category_code, description, priority, item_type, status, channel, lon, lat, geom,
                       region_code, region_path, external_id, created_at, updated_at)
SELECT gen_random_uuid(), 'noise', '噪音扰民 ' || i, 3, 'complaint',
       (ARRAY['dispatched','needs_attention','closed'])[1 + i % 3], (ARRAY['hotline','sensor'])[1 + i % 2],
       i % 200 * 0.001, i / 2000 * 0.001, ST_SetSRID(ST_MakePoint(i % 200 * 0.001, i / 2000 * 0.001), 4326),
       'r' || (1 + i % {REGIONS}), ARRAY['r' || (1 + i % {REGIONS})], 'ext' || i, now(), now()
  FROM generate_series(1, {INCIDENTS}) i;
INSERT INTO events (kind, incident_id, actor, to_state, region_path, payload)
SELECT 'incident.created', 1 + i % {INCIDENTS}, 'system', 'dispatched', ARRAY['r1'], '{{"photos": []}}'
  FROM generate_series(1, {EVENTS}) i;
ANALYZE;
"""


@pytest.fixture(scope="module")
def scratch() -> Iterator[Settings]:
    with psycopg.connect(f"{BASE_PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{SCRATCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{SCRATCH_DB}"')
    try:
        yield make_test_settings(database_url=f"{BASE_PG}/{SCRATCH_DB}")
    finally:
        with psycopg.connect(f"{BASE_PG}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{SCRATCH_DB}" WITH (FORCE)')


def revisions(settings: Settings) -> list[str]:
    script = ScriptDirectory.from_config(alembic_config(settings))
    return [s.revision for s in reversed(list(script.walk_revisions()))]


def test_no_migration_blocks_incidents_events_or_regions(scratch: Settings) -> None:
    revs = revisions(scratch)
    upgrade(scratch, revs[0])
    with psycopg.connect(f"{BASE_PG}/{SCRATCH_DB}", autocommit=True) as conn:
        conn.execute(SEED)
    report: dict[str, dict[tuple[str, str], float]] = {}
    for rev in revs[1:]:
        with LockWatcher(f"{BASE_PG}/{SCRATCH_DB}") as watcher:
            upgrade(scratch, rev)
        assert watcher.samples > 0
        report[rev] = watcher.holds.longest_ms
    lines = [f"{rev}: " + ", ".join(f"{t} {m} {ms:.0f} ms" for (t, m), ms in sorted(h.items()))
             for rev, h in report.items()]
    print(f"\nlongest hold per migration (events={EVENTS} incidents={INCIDENTS} regions={REGIONS}):\n"
          + "\n".join(lines))
    over = {rev: {k: round(v) for k, v in h.items() if v > BOUND_MS and (rev, *k) not in ROW_INDEPENDENT}
            for rev, h in report.items()}
    over = {rev: h for rev, h in over.items() if h}
    assert not over, f"migrations held a blocking lock longer than {BOUND_MS} ms: {over}\n" + "\n".join(lines)


def test_lock_timeout_makes_a_waiting_migration_fail_fast(scratch: Settings) -> None:
    """A migration queued behind a long transaction gives up after migration_lock_timeout_ms instead of waiting
    (and making every request wait behind its own queued lock). Alembic reads alembic_version first: a session
    holding that table stands for a long query on the table a migration alters."""
    upgrade(scratch, "head")
    settings = scratch.model_copy(update={"migration_lock_timeout_ms": 300})
    with psycopg.connect(f"{BASE_PG}/{SCRATCH_DB}") as holder:
        holder.execute("LOCK TABLE alembic_version IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()
        with pytest.raises(Exception, match="lock timeout"):
            upgrade(settings, "head")
        elapsed = time.monotonic() - started
        holder.rollback()
    assert elapsed < 3, elapsed
