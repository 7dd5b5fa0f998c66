"""`python -m bench.osmand` keeps working: a small run against the test database and Redis prints every figure
(the full run and its figures: docs/interop.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from command.core.settings import Settings
from tests.procs import ROOT, free_port_block

pytestmark = pytest.mark.timeout(240)


@pytest.mark.parametrize("driver", ["aiohttp", "wrk"])
def test_small_osmand_bench_reports_its_figures(migrated: Settings, driver: str) -> None:
    env = {**os.environ, "DATABASE_URL": migrated.database_url, "REDIS_URL": migrated.redis_url,
           "GRIDCMD_SECRET_KEY": migrated.secret_key, "GRIDCMD_LOG_LEVEL": "warning"}
    done = subprocess.run([sys.executable, "-m", "bench.osmand", "--workers", "20", "--reports", "400",
                           "--concurrency", "8", "--processes", "2", "--connections", "4", "--seconds", "1",
                           "--port", str(free_port_block(2) + 1), "--driver", driver], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=200)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["service"]["reports"] == 400 and result["service"]["per_s"] > 0
    http = result["http"]
    assert http["driver"] == driver
    assert http["reports"] > 0 and http["errors"] == 0 and http["server_cpu_ms_per_report"] > 0
    # Every device's newest report in Redis is one of the timed ones: the reports were applied, not only answered.
    assert http["devices_applied"] == 20, http
