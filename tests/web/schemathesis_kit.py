"""Schemathesis over every operation of the OpenAPI document (issue 13, item 8), against a real server process
with real PostgreSQL and Redis and the demo city loaded, as an admin and as a street operator (op-1).

Pass: no answer >= 500, every status returned documented for its operation, every documented body matched by
the answer (schemathesis's not_a_server_error, status_code_conformance, response_schema_conformance and
content_type_conformance). All four phases run: explicit examples, coverage (boundary and negative values of
every parameter), fuzzing and stateful sequences.

Bounded for the suite: GRIDCMD_FUZZ_EXAMPLES cases per operation and phase (default 10) with a fixed seed
(GRIDCMD_FUZZ_SEED) so CI is reproducible; run it hard by hand (docs/input.md):

    GRIDCMD_FUZZ_EXAMPLES=1000 GRIDCMD_FUZZ_SEED=random .venv/bin/python -m pytest -q tests/web/test_schemathesis_*.py

One file per account (test_schemathesis_admin.py, test_schemathesis_operator.py), each with its own server, so that
the suite's two workers (pytest-xdist, whole files each) run them side by side."""

from __future__ import annotations

import asyncio
import collections
import os
import subprocess
import sys
from pathlib import Path

import httpx
import orjson
import psycopg
import pytest

from command.core.settings import Settings
from tests.procs import ROOT, free_port, log_tail, server_env, start_server, stop, wait_ready

EXAMPLES = int(os.environ.get("GRIDCMD_FUZZ_EXAMPLES", "10"))
SEED = os.environ.get("GRIDCMD_FUZZ_SEED", "1913")
HOTLINE_SECRET = "fuzz-hotline-secret"
USERS = ("admin", "op-1")  # every account of the demo city has this password; each file fuzzes as one of them
# The account whose id replaces the fuzzing account's own in /api/v1/admin/users/{id}/… (tests/schemathesis_hooks.py):
# disabling, demoting or ending the sessions of the fuzzing account would leave the rest of the run testing 401s only.
SPARE = "op-2"
LOGOUT = "/api/v1/auth/logout"  # fuzzed with a session of its own (tests/schemathesis_hooks.py)
PASSWORD = "demo1234"
CHECKS = "not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture(scope="module")
async def server(demo_db, settings: Settings, tmp_path_factory: pytest.TempPathFactory):
    """A real server over the demo city, with a little of everything the API refers to by id."""
    port = free_port()
    uploads = tmp_path_factory.mktemp("uploads")
    env = server_env(settings, GRIDCMD_RESIDENT_RATE_PER_MIN="1000000", GRIDCMD_HOTLINE_SECRET=HOTLINE_SECRET,
                     GRIDCMD_UPLOAD_DIR=str(uploads), GRIDCMD_LOG_LEVEL="warning")
    proc = start_server(port, env)
    try:
        await asyncio.to_thread(wait_ready, port, proc=proc)
        base = f"http://127.0.0.1:{port}"
        tokens = await _seed(base)
        tokens["ids"] = _user_ids(settings)  # type: ignore[assignment]
        tokens["key"] = settings.secret_key
        yield base, tokens, proc
    finally:
        stop(proc)


async def _seed(base: str) -> dict[str, str]:
    async with httpx.AsyncClient(base_url=base, timeout=30) as c:
        tokens = {}
        for user in (*USERS, "w0001", "l-water"):
            r = await c.post("/api/v1/auth/token", data={"username": user, "password": PASSWORD})
            r.raise_for_status()
            tokens[user] = r.json()["access_token"]
        admin = {"Authorization": f"Bearer {tokens['admin']}"}
        categories = [c["code"] for c in (await c.get("/api/v1/categories")).json()["items"]]
        for i in range(24):  # incidents with orders, events and deadlines spread over the city
            r = await c.post("/api/v1/alerts", headers=admin, json={
                "category": categories[i % len(categories)], "description": f"fuzz seed {i}",
                "lon": 118.70 + (i % 6) * 0.02, "lat": 31.98 + (i // 6) * 0.02, "channel": "hotline",
                "external_id": f"seed-{i}"})
            assert r.status_code in (200, 201), r.text
        worker = {"Authorization": f"Bearer {tokens['w0001']}"}
        for who in (admin, worker):
            r = await c.post("/api/v1/uploads", headers=who, files={"file": ("p.png", PNG, "image/png")})
            assert r.status_code == 201, r.text
        r = await c.put("/api/v1/hotline/12345/categories", headers=admin,
                        json={"their_code": "0301", "category_code": categories[0]})
        assert r.status_code == 200, r.text
        return tokens


def _user_ids(settings: Settings) -> dict[str, int]:
    with psycopg.connect(settings.sync_database_url.replace("+psycopg", "")) as conn:
        return {name: uid for uid, name in conn.execute(
            "SELECT id, username FROM users WHERE username = ANY(%s)", ([*USERS, SPARE],)).fetchall()}


def _summarise(report: Path) -> tuple[int, collections.Counter[int], int]:
    """(requests made, how many answers of each status, logouts answered 204) from schemathesis's NDJSON events."""
    requests, statuses, logouts = 0, collections.Counter[int](), 0
    for line in report.read_text().splitlines():
        event = orjson.loads(line)
        finished = event.get("ScenarioFinished")
        if not finished:
            continue
        for interaction in (finished.get("recorder", {}).get("interactions") or {}).values():
            requests += 1
            if interaction.get("response"):
                status = interaction["response"]["status_code"]
                statuses[status] += 1
                sent = interaction.get("request") or {}
                if status == 204 and str(sent.get("uri", "")).split("?")[0].endswith(LOGOUT):
                    logouts += 1
    return requests, statuses, logouts


async def fuzz_as(server: tuple, user: str, tmp_path: Path) -> None:
    """Every operation answers only documented statuses and never 5xx, for `user`'s token."""
    base, tokens, proc = server
    report = tmp_path / "events.ndjson"
    # One worker: with two threads, hypothesis' strategy repr (ast.parse) hit CPython 3.11's "AST constructor
    # recursion depth mismatch" now and then, a tool error that failed the run with every answer correct.
    command = [str(Path(sys.executable).parent / "schemathesis"), "run", f"{base}/openapi.json",
               "--checks", CHECKS,
               "--max-examples", str(EXAMPLES), "--workers", "1", "--request-timeout", "30",
               "--phases", "examples,coverage,fuzzing,stateful", "--suppress-health-check", "all",
               "--report", "ndjson", "--report-ndjson-path", str(report), "--output-truncate", "true",
               "--no-color"]
    if SEED != "random":
        command += ["--seed", SEED]
    ids = tokens["ids"]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.schemathesis_hooks", "GRIDCMD_HOTLINE_SECRET": HOTLINE_SECRET,
           "PYTHONPATH": str(ROOT), "GRIDCMD_FUZZ_SELF_ID": str(ids[user]), "GRIDCMD_FUZZ_SPARE_ID": str(ids[SPARE]),
           # The token is set by the hook (POST /auth/logout gets a session of its own, minted with the key).
           "GRIDCMD_FUZZ_TOKEN": tokens[user], "GRIDCMD_SECRET_KEY": tokens["key"]}
    done = await asyncio.to_thread(subprocess.run, command, cwd=tmp_path, env=env, capture_output=True, text=True,
                                   timeout=850)
    requests, statuses, logouts = _summarise(report)
    print(f"schemathesis as {user}: {requests} requests, statuses {dict(sorted(statuses.items()))}, "
          f"{logouts} logouts answered 204")
    server_errors = sum(n for status, n in statuses.items() if status >= 500)
    assert done.returncode == 0 and server_errors == 0, (
        f"schemathesis found failures ({requests} requests, {server_errors} answers >= 500):\n"
        f"{done.stdout[-12000:]}\n{done.stderr[-3000:]}\nserver log:\n{log_tail(proc, 80)}")
    assert requests > 20 * EXAMPLES, f"only {requests} requests: the run did not reach the operations"
    # The token must have stood to the end: a run that revoked it tested nothing but 401s from then on.
    async with httpx.AsyncClient(base_url=base, timeout=30) as c:
        r = await c.get("/api/v1/incidents", params={"limit": 1}, headers={"Authorization": f"Bearer {tokens[user]}"})
    assert r.status_code == 200, f"the fuzzing token no longer works ({r.status_code}): the run revoked it"
    assert statuses[401] < requests * 0.25, f"{statuses[401]} of {requests} answers were 401"
    assert logouts > 0, "POST /auth/logout never reached its 204: it was not really fuzzed"
