"""Resident tracking tokens stay out of URLs and logs: the API takes them in a header, links carry them in the
#fragment (never sent), and a real server with its access log on writes no `token=` and no token, not even for
an old printed link (`?k=`) or a hand-written client that still puts one in the query string."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from command.core.db import make_sessionmaker
from tests import loop_world as w
from tests.procs import free_port, server_env, start_server, stop, wait_ready


@pytest.fixture
def served(migrated, clean_db, redis) -> Iterator[tuple[str, Path]]:
    port = free_port()
    proc = start_server(port, server_env(migrated, GRIDCMD_TEST_LOG_LEVEL="info", GRIDCMD_DISPATCH_BACKGROUND="false"))
    try:
        wait_ready(port, proc=proc)
        yield f"http://127.0.0.1:{port}", Path(proc.log_path)  # type: ignore[attr-defined]
    finally:
        stop(proc)


async def test_tracking_tokens_never_reach_the_access_log(served, settings, clean_db) -> None:
    base, log_path = served
    async with make_sessionmaker(clean_db)() as s, s.begin():
        await w.build(s)
        inc = await w.incident(s)
    async with httpx.AsyncClient(base_url=base, timeout=20) as http:
        op = {"Authorization": "Bearer " + (await http.post("/api/v1/auth/token", data={
            "username": "op1", "password": w.PASSWORD})).json()["access_token"]}
        link = (await http.get(f"/api/v1/incidents/{inc.id}/tracking-link", headers=op)).json()
        assert link["url"] == f"/r/t/{inc.public_id}#k={link['token']}"
        filed = await http.post("/api/v1/public/requests", json={
            "category": "road", "description": "路灯不亮", "lon": 120.05, "lat": 30.05, "phone": "13800001234"})
        assert filed.status_code == 201, filed.text
        tokens = [link["token"], filed.json()["token"]]
        assert filed.json()["tracking_url"].endswith(f"#k={tokens[1]}")
        for public_id, token in ((link["public_id"], tokens[0]), (filed.json()["public_id"], tokens[1])):
            assert (await http.get(f"/r/t/{public_id}#k={token}")).status_code == 200  # the fragment stays here
            view = await http.get(f"/api/v1/track/{public_id}", headers={"X-Tracking-Token": token})
            assert view.status_code == 200 and view.json()["public_id"] == public_id
        # An old printed link (token in the query) still opens the page, whose script moves the token into the
        # fragment; a client that puts the token in the query string is refused (it belongs in the header).
        assert (await http.get(f"/r/t/{link['public_id']}?k={tokens[0]}")).status_code == 200
        old = await http.get(f"/api/v1/track/{link['public_id']}?token={tokens[0]}")
        assert old.status_code == 422 and old.json()["error"]["code"] == "invalid_input"
        wrong = await http.get(f"/api/v1/track/{link['public_id']}", headers={"X-Tracking-Token": "wrong"})
        assert wrong.status_code == 404
    log = log_path.read_text(encoding="utf-8", errors="replace")
    assert f'GET /api/v1/track/{link["public_id"]} HTTP/1.1" 200' in log, log[-2000:]  # the access log is on
    assert f"GET /r/t/{link['public_id']}?k=[redacted] HTTP/1.1" in log
    assert "token=[redacted]" in log
    assert not re.search(r"token=(?!\[redacted\])", log) and not re.search(r"[?&]k=(?!\[redacted\])", log)
    for token in tokens:
        assert token not in log

