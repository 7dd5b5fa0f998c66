"""Login cannot be brute-forced or used to list users: throttling per account and per client address with
back-off (Redis), the same answer and the same time for unknown users, an audit row per attempt. Real server
processes (behind a "proxy" at 127.0.0.1 that the servers trust, so each test request picks its client address
with X-Forwarded-For), real PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from sqlalchemy import text

from command.admin.users import create_user
from command.core.db import make_sessionmaker
from tests.procs import free_port, server_env, start_server, stop, wait_ready

PW = "right-password"
LIMITS = {"GRIDCMD_LOGIN_MAX_FAILURES": "5", "GRIDCMD_LOGIN_ADDRESS_MAX_FAILURES": "8",
          "GRIDCMD_LOGIN_BACKOFF_S": "2", "GRIDCMD_TRUSTED_PROXIES": "127.0.0.1",
          "GRIDCMD_DISPATCH_BACKGROUND": "false"}


@pytest.fixture
async def accounts(clean_db, redis) -> None:
    async with make_sessionmaker(clean_db)() as s, s.begin():
        for name in ("boss", "op", "victim"):
            await create_user(s, username=name, password=PW, role="operator")


@contextmanager
def serving(settings, **env: str) -> Iterator[str]:
    port = free_port()
    proc = start_server(port, server_env(settings, **env))
    try:
        wait_ready(port, proc=proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)


@pytest.fixture
def base(migrated, accounts) -> Iterator[str]:
    with serving(migrated, **LIMITS) as url:
        yield url


async def attempt(http: httpx.AsyncClient, base: str, username: str, password: str, address: str) -> httpx.Response:
    return await http.post(f"{base}/api/v1/auth/token", data={"username": username, "password": password},
                           headers={"X-Forwarded-For": address})


def assert_throttled(r: httpx.Response) -> int:
    assert r.status_code == 429, r.text
    assert r.json()["error"]["code"] == "rate_limited"
    wait = int(r.headers["Retry-After"])
    assert 1 <= wait <= 900
    return wait


async def test_twenty_wrong_passwords_throttle_the_account_even_for_the_right_one_from_elsewhere(
        base: str, clean_db) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        answers = [await attempt(http, base, "boss", f"guess-{i}", "10.0.0.1") for i in range(20)]
        assert [r.status_code for r in answers[:5]] == [401] * 5
        waits = [assert_throttled(r) for r in answers[5:]]
        assert max(waits) <= 2
        right = await attempt(http, base, "boss", PW, "10.9.9.9")  # the right password, from another address
        wait = assert_throttled(right)
        await asyncio.sleep(wait + 0.2)
        assert (await attempt(http, base, "boss", PW, "10.9.9.9")).status_code == 200  # after the back-off
        assert (await attempt(http, base, "boss", "again-wrong", "10.9.9.9")).status_code == 401  # counting anew
    async with clean_db.connect() as conn:
        rows = (await conn.execute(text(
            "SELECT address, result, count(*), bool_and(user_id IS NOT NULL) FROM login_attempts "
            "WHERE username = 'boss' GROUP BY 1, 2 ORDER BY 1, 2"))).all()
    assert [tuple(r) for r in rows] == [("10.0.0.1", "failure", 5, True), ("10.0.0.1", "throttled", 15, False),
                                        ("10.9.9.9", "failure", 1, True), ("10.9.9.9", "success", 1, True),
                                        ("10.9.9.9", "throttled", 1, False)]


async def test_an_address_is_throttled_by_its_failures_only(base: str, clean_db) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        for _ in range(12):  # more good logins from one address than it may fail: successes are not counted
            assert (await attempt(http, base, "op", PW, "10.0.2.1")).status_code == 200
        for i in range(8):  # one failure per username (no account reaches its limit), all from one address
            assert (await attempt(http, base, f"nobody-{i}", "x", "10.0.1.1")).status_code == 401
        assert_throttled(await attempt(http, base, "op", PW, "10.0.1.1"))  # the address waits, whoever logs in
        assert (await attempt(http, base, "op", PW, "10.0.1.2")).status_code == 200  # other addresses do not


async def test_attempts_sent_all_at_once_are_counted_before_their_passwords(base: str) -> None:
    async with httpx.AsyncClient(timeout=60) as http:
        answers = await asyncio.gather(*(attempt(http, base, "victim", f"guess-{i}", f"10.0.3.{i}")
                                         for i in range(15)))
    statuses = sorted(r.status_code for r in answers)
    assert statuses.count(401) <= 5 and statuses.count(429) >= 10, statuses


async def test_unknown_users_and_disabled_accounts_get_the_same_answer_as_wrong_passwords(base: str,
                                                                                          clean_db) -> None:
    async with clean_db.begin() as conn:
        await conn.execute(text("UPDATE users SET active = false WHERE username = 'victim'"))
    async with httpx.AsyncClient(timeout=30) as http:
        answers = [await attempt(http, base, "op", "wrong", "10.0.4.1"),
                   await attempt(http, base, "no-such-user", "wrong", "10.0.4.2"),
                   await attempt(http, base, "victim", PW, "10.0.4.3")]  # disabled, right password
    for r in answers:
        assert r.status_code == 401 and r.headers.get("www-authenticate") == "Bearer"
        assert r.json() == {"error": {"code": "not_authenticated", "message": "wrong username or password"}}


async def test_known_and_unknown_users_take_the_same_time(migrated, accounts) -> None:
    # Limits out of the way: every attempt must reach the password check.
    with serving(migrated, GRIDCMD_LOGIN_MAX_FAILURES="1000", GRIDCMD_LOGIN_ADDRESS_MAX_FAILURES="1000",
                 GRIDCMD_DISPATCH_BACKGROUND="false") as base:
        times: dict[str, list[float]] = {"op": [], "nobody-here": []}
        async with httpx.AsyncClient(timeout=30) as http:
            for _ in range(3):  # warm up: connections, statement caches
                await attempt(http, base, "op", "wrong", "x")
                await attempt(http, base, "nobody-here", "wrong", "x")
            for _ in range(50):  # 50 tries each, interleaved: load from elsewhere hits both alike
                for username in times:
                    started = time.perf_counter()
                    r = await attempt(http, base, username, "wrong", "x")
                    times[username].append(time.perf_counter() - started)
                    assert r.status_code == 401
        known, unknown = statistics.median(times["op"]), statistics.median(times["nobody-here"])
        assert abs(known - unknown) <= 0.10 * max(known, unknown), (known, unknown)
        assert known > 0.02  # an argon2 check really ran for both
