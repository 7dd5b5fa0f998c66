"""Access ends when the account ends: a disabled, deleted, demoted, re-passworded or logged-out account's tokens
are 401 at once (never a 500), revocation survives a Redis flush, renewals stay within the session, and a Redis
that is down or an announcement that is lost fails safe (real PostgreSQL and Redis; the app in-process, plus the
CLI and a Redis server of the test's own)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from command.admin.users import create_user
from command.core.db import make_sessionmaker
from command.core.security import TokenClaims, verify_token
from command.core.settings import Settings
from tests.helpers import app_client
from tests.procs import ROOT, free_port

PW = "secret-pw"
ALERT = {"category": "fire", "description": "配电箱冒烟", "lon": 118.72, "lat": 32.02, "channel": "hotline"}


@pytest.fixture
async def people(clean_db: AsyncEngine, redis) -> dict[str, int]:
    ids = {}
    async with make_sessionmaker(clean_db)() as s, s.begin():
        for name, role in (("boss", "admin"), ("op", "operator"), ("op2", "operator"), ("sup", "supervisor")):
            ids[name] = (await create_user(s, username=name, password=PW, role=role)).id
    return ids


async def login(client: httpx.AsyncClient, username: str, password: str = PW) -> dict[str, str]:
    r = await client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def sql(engine: AsyncEngine, statement: str, **params: object) -> None:
    async with engine.begin() as conn:
        await conn.execute(text(statement), params)


def claims_of(settings: Settings, headers: dict[str, str]) -> TokenClaims:
    return verify_token(settings, headers["Authorization"].removeprefix("Bearer "))


async def me(client: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
    return await client.get("/api/v1/auth/me", headers=headers)


async def within(seconds: float, condition: Callable[[], Awaitable[bool]]) -> float:
    """Poll `condition` until it holds (the seconds it took), failing after `seconds`."""
    started = time.monotonic()
    for _ in range(int(seconds / 0.05) + 1):
        if await condition():
            return time.monotonic() - started
        await asyncio.sleep(0.05)
    raise AssertionError(f"not within {seconds} s")


async def trusting(c: httpx.AsyncClient, expected: bool = True) -> bool:
    return c.app.state.accounts.trusted is expected  # type: ignore[attr-defined]


def assert_401(r: httpx.Response, words: str) -> None:
    assert r.status_code == 401, r.text
    assert r.json()["error"]["code"] == "not_authenticated" and words in r.json()["error"]["message"], r.text


async def test_a_disabled_account_is_refused_at_once_and_enabling_does_not_revive_old_tokens(
        people, settings, clean_db) -> None:
    async with app_client(settings) as c:
        admin, op = await login(c, "boss"), await login(c, "op")
        assert (await me(c, op)).status_code == 200  # cached in this process now
        r = await c.post(f"/api/v1/admin/users/{people['op']}/disable", headers=admin)
        assert r.status_code == 200 and r.json()["active"] is False and r.json()["token_version"] == 1, r.text
        assert_401(await me(c, op), "disabled")
        assert_401(await c.post("/api/v1/alerts", json=ALERT, headers=op), "disabled")
        refused = await c.post("/api/v1/auth/token", data={"username": "op", "password": PW})
        assert refused.status_code == 401 and refused.json()["error"]["message"] == "wrong username or password"
        assert (await c.post(f"/api/v1/admin/users/{people['op']}/enable", headers=admin)).status_code == 200
        assert_401(await me(c, op), "log in again")  # the version moved twice: tokens from before stay dead
        assert (await me(c, await login(c, "op"))).status_code == 200


async def test_a_deleted_account_is_401_never_500(people, settings, clean_db) -> None:
    async with app_client(settings) as c:
        op = await login(c, "op")
        assert (await me(c, op)).status_code == 200
        await sql(clean_db, "DELETE FROM users WHERE id = :id", id=people["op"])
        await c.app.state.account_watch.changed({people["op"]})  # as a tool that deletes accounts announces it
        assert_401(await me(c, op), "no longer exists")
        assert_401(await c.post("/api/v1/alerts", json=ALERT, headers=op), "no longer exists")  # was a 500


async def test_a_demoted_account_is_refused_and_logs_in_with_its_new_role(people, settings, clean_db) -> None:
    async with app_client(settings) as c:
        admin, sup = await login(c, "boss"), await login(c, "sup")
        assert (await c.get("/api/v1/supervision/extensions", headers=sup)).status_code == 200
        r = await c.put(f"/api/v1/admin/users/{people['sup']}/role", headers=admin,
                        json={"role": "operator", "region_code": None, "department_code": None})
        assert r.status_code == 200 and r.json()["role"] == "operator", r.text
        assert_401(await c.get("/api/v1/supervision/extensions", headers=sup), "changed")
        again = await login(c, "sup")
        assert (await me(c, again)).json()["role"] == "operator"
        assert (await c.get("/api/v1/supervision/extensions", headers=again)).status_code == 200  # staff still


async def test_admin_account_endpoints_are_admin_only_and_refuse_bad_input(people, settings, clean_db) -> None:
    async with app_client(settings) as c:
        admin, op = await login(c, "boss"), await login(c, "op")
        uid = people["op2"]
        for method, path, body in (("POST", f"/api/v1/admin/users/{uid}/disable", None),
                                   ("POST", f"/api/v1/admin/users/{uid}/enable", None),
                                   ("POST", f"/api/v1/admin/users/{uid}/sessions/end", None),
                                   ("PUT", f"/api/v1/admin/users/{uid}/role", {"role": "admin"})):
            r = await c.request(method, path, headers=op, json=body)
            assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden", (path, r.text)
            assert (await c.request(method, path, json=body)).status_code == 401
        assert (await c.post("/api/v1/admin/users/999999/disable", headers=admin)).status_code == 404
        assert (await c.post("/api/v1/admin/users/99999999999999999999/disable", headers=admin)).status_code == 422
        for bad in ({"role": "king"}, {"role": "operator", "region_code": "NOWHERE"},
                    {"role": "liaison"}, {"role": "operator", "extra": 1}):
            r = await c.put(f"/api/v1/admin/users/{uid}/role", headers=admin, json=bad)
            assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_input", (bad, r.text)
        version = (await c.post(f"/api/v1/admin/users/{uid}/sessions/end", headers=admin)).json()["token_version"]
        assert version == 1
    async with clean_db.connect() as conn:
        row = (await conn.execute(text("SELECT role, active, token_version FROM users WHERE id = :i"),
                                  {"i": uid})).one()
    assert tuple(row) == ("operator", True, 1)  # only end-sessions changed anything


async def test_logout_ends_that_session_only_and_survives_a_redis_flush(people, settings, clean_db, redis) -> None:
    async with app_client(settings) as c:
        phone, desk = await login(c, "op"), await login(c, "op")
        assert (await me(c, phone)).status_code == 200  # signature verified and cached in this process
        assert (await c.post("/api/v1/auth/logout", headers=phone)).status_code == 204
        assert_401(await me(c, phone), "signed out")  # the per-process signature cache does not let it through
        assert (await me(c, desk)).status_code == 200  # the other session goes on
        assert_401(await c.post("/api/v1/auth/logout", headers=phone), "signed out")
        await redis.flushdb()
        c.app.state.accounts.clear()
        assert_401(await me(c, phone), "signed out")  # PostgreSQL holds the revocation
    async with clean_db.connect() as conn:
        rows = (await conn.execute(text("SELECT session_id, expires_at > now() + interval '11 hours' "
                                        "FROM revoked_sessions"))).all()
    assert [(sid, later) for sid, later in rows] == [(claims_of(settings, phone).session_id, True)]


async def test_renewal_keeps_the_session_and_logout_ends_every_renewal(people, settings, clean_db) -> None:
    async with app_client(settings) as c:
        first = await login(c, "op")
        r = await c.post("/api/v1/auth/renew", headers=first)
        assert r.status_code == 200, r.text
        renewed = {"Authorization": f"Bearer {r.json()['access_token']}"}
        a, b = claims_of(settings, first), claims_of(settings, renewed)
        assert (b.session_id, b.auth_time, b.principal) == (a.session_id, a.auth_time, a.principal)
        assert b.token_id != a.token_id and r.json()["expires_at"] == int(b.expires_at) >= a.expires_at
        assert (await me(c, renewed)).status_code == 200
        assert (await c.post("/api/v1/auth/logout", headers=renewed)).status_code == 204
        assert_401(await me(c, first), "signed out")  # the session, not just the renewed token
        assert_401(await c.post("/api/v1/auth/renew", headers=first), "signed out")


async def test_renewal_stops_at_the_session_maximum(people, settings, clean_db) -> None:
    short = settings.model_copy(update={"session_max_s": 30, "token_ttl_s": 600})
    async with app_client(short) as c:
        token = await login(c, "op")
        claims = claims_of(short, token)
        assert claims.expires_at == claims.auth_time + 30  # a token never outlives its session
        assert_401(await c.post("/api/v1/auth/renew", headers=token), "longest life")  # nothing left to gain
        assert (await me(c, token)).status_code == 200  # the token itself stands until it expires


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url,
           "GRIDCMD_SECRET_KEY": settings.secret_key}
    return subprocess.run([sys.executable, "-m", "command.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


async def test_the_cli_ends_sessions_disables_and_sets_passwords(people, settings, clean_db) -> None:
    async with app_client(settings) as c:
        op = await login(c, "op")
        assert (await me(c, op)).status_code == 200
        done = await asyncio.to_thread(_cli, settings, "end-sessions", "op")
        assert done.returncode == 0 and "every session ended" in done.stdout, done.stderr
        assert_401(await me(c, op), "sessions were ended")  # announced: this process heard it
        op = await login(c, "op")
        done = await asyncio.to_thread(_cli, settings, "set-password", "op", "--password", "new-secret-pw")
        assert done.returncode == 0, done.stderr
        assert_401(await me(c, op), "log in again")
        assert (await c.post("/api/v1/auth/token", data={"username": "op", "password": PW})).status_code == 401
        op = await login(c, "op", "new-secret-pw")
        done = await asyncio.to_thread(_cli, settings, "disable-user", "op")
        assert done.returncode == 0, done.stderr
        assert_401(await me(c, op), "disabled")
        assert (await asyncio.to_thread(_cli, settings, "enable-user", "op")).returncode == 0
        assert (await me(c, await login(c, "op", "new-secret-pw"))).status_code == 200
        missing = await asyncio.to_thread(_cli, settings, "disable-user", "nobody")
        assert missing.returncode == 2 and "no user 'nobody'" in missing.stderr


async def test_a_change_nobody_announced_is_seen_within_the_cache_window(people, settings, clean_db) -> None:
    cached = settings.model_copy(update={"account_cache_s": 1.0})
    async with app_client(cached) as c:
        op = await login(c, "op")
        await within(5, lambda: trusting(c))  # the subscription is up: the cache is used
        assert (await me(c, op)).status_code == 200
        await sql(clean_db, "UPDATE users SET active = false WHERE id = :id", id=people["op"])  # psql, no announce

        async def refused() -> bool:
            return (await me(c, op)).status_code == 401

        await within(1.0 + 0.3, refused)


def _start_redis(port: int) -> subprocess.Popen:
    return subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.fixture
async def own_redis() -> AsyncIterator[tuple[str, subprocess.Popen]]:
    """A Redis server of this test's own (stopping it disturbs nobody)."""
    port = free_port()
    proc = _start_redis(port)
    url = f"redis://127.0.0.1:{port}/0"
    from redis.asyncio import Redis

    client = Redis.from_url(url)
    for _ in range(100):
        try:
            await client.ping()
            break
        except Exception:
            await asyncio.sleep(0.05)
    await client.aclose()
    yield url, proc
    proc.kill()
    proc.wait(10)


async def test_redis_down_fails_safe_every_check_reads_postgresql(people, settings, clean_db, own_redis) -> None:
    url, redis_proc = own_redis
    isolated = settings.model_copy(update={"redis_url": url, "account_cache_s": 60.0,
                                           "dispatch_background": False})
    async with app_client(isolated) as c:
        op = await login(c, "op")
        await within(5, lambda: trusting(c))
        assert (await me(c, op)).status_code == 200  # cached for a minute while changes can be heard
        redis_proc.terminate()
        redis_proc.wait(10)
        await within(10, lambda: trusting(c, False))  # the subscription is lost: the cache is no longer trusted
        await sql(clean_db, "UPDATE users SET active = false WHERE id = :id", id=people["op"])
        assert_401(await me(c, op), "disabled")  # at once, not after the 60 s the cache would have kept it
        logins = await c.post("/api/v1/auth/token", data={"username": "sup", "password": PW})
        assert logins.status_code == 503 and logins.json()["error"]["code"] == "unavailable"  # not unthrottled
