"""The history bench keeps working at a small size: `python -m bench.phase_reports --scale small` generates days of
incidents with orders, events, callbacks and deadlines, folds them into the daily facts, and measures the
ranking queries both ways; the facts' answer equals the raw one and every figure is in the JSON; the whole
deployment's monthly 通报 of that month is generated and equals the statistics.

Its own database (<test db>_benchhist, dropped afterwards)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import psycopg

from tests.environment import BASE_PG, TEST_DB

ROOT = Path(__file__).resolve().parents[2]
DB = f"{TEST_DB}_benchhist"


def _admin(sql: str) -> None:
    with psycopg.connect(f"{BASE_PG}/postgres", autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (DB,))
        conn.execute(sql)


def test_small_history_bench(tmp_path: Path) -> None:
    from command.core.settings import Settings
    from command.ops.migrate import upgrade

    _admin(f'DROP DATABASE IF EXISTS "{DB}"')
    _admin(f'CREATE DATABASE "{DB}"')
    try:
        with psycopg.connect(f"{BASE_PG}/{DB}", autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        upgrade(Settings(database_url=f"{BASE_PG}/{DB}"))
        out = tmp_path / "history.json"
        proc = subprocess.run(
            [sys.executable, "-m", "bench.phase_reports", "--database-url", f"{BASE_PG}/{DB}", "--scale", "small",
             "--start", "2026-10-20", "--days", "14", "--per-day", "150", "--month", "2026-10-25", "--runs", "2",
             "--raw-runs", "1", "--out", str(out)],
            cwd=ROOT, capture_output=True, text=True, timeout=180, check=False)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        r = json.loads(out.read_text())
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{DB}"')
    assert r["generate"]["incidents"] == 14 * 150
    assert r["generate"]["orders"] > r["generate"]["incidents"] and r["generate"]["events"] > 2 * 14 * 150 * 0.8
    assert r["fold"]["days"] == 14
    for case in ("province_street", "street_grid"):
        q = r["queries"][case]
        assert q["facts_equal_raw"] is True and q["units"] > 1
        for path in ("facts", "page_scores", "raw"):
            for temp in ("cold", "warm"):
                assert q[path][temp]["p95_ms"] > 0
    report = r["monthly_report"]
    assert report["total_equals_stats"] is True and report["stored"] is True, report
    assert report["incidents"] > 0 and report["districts"] == report["ranked_units"] > 1
    assert report["pdf_bytes"] > 10_000 and report["peak_rss_mib"] > 0 and report["one_report_s"] > 0
