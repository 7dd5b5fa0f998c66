"""A socket lives no longer than its token, on every web process: closed with 4401 at expiry (unless renewed by
an auth frame before), and within 2 s of the account being disabled, demoted, deleted, logged out or having its
sessions ended through another process; HTTP answers 401 at once. Two real server processes (the changes go
through A, the sockets sit on B and A), real PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Iterator

import httpx
import jwt
import pytest
from redis.asyncio import Redis
from sqlalchemy import text

from command.admin.account_admin import announce
from command.core.models import User
from command.core.security import Principal, issue_token, verify_token
from tests.procs import free_port, kernel_ports, server_env, start_server, stop, wait_ready
from tests.ws_fixtures import City, emit, new_incident
from tests.ws_helpers import closed_with, open_ws, recv, silent, subscribe

A, B = kernel_ports(2)
WITHIN_S = 2.0
_names = itertools.count(1)


@pytest.fixture(scope="module")
def servers(city: City) -> Iterator[tuple[int, int]]:
    # A long cache: what closes the sockets within 2 s below is the announcement, not the cache running out.
    env = server_env(city.settings, GRIDCMD_DISPATCH_BACKGROUND="false", GRIDCMD_ACCOUNT_CACHE_S="30")
    procs = [start_server(port, env) for port in (A, B)]
    try:
        for port, proc in zip((A, B), procs, strict=True):
            wait_ready(port, proc=proc)
        yield A, B
    finally:
        for proc in procs:
            stop(proc)


async def account(city: City, role: str = "operator", region: str | None = "SX", *,
                  settings=None) -> tuple[int, str]:
    """A new user of its own for one test, and a token for it."""
    name = f"acc{next(_names)}"
    async with city.sessionmaker() as s, s.begin():
        user = User(username=name, display_name=name, role=role, region_code=region, password_hash="!")
        s.add(user)
        await s.flush()
    return user.id, issue_token(settings or city.settings, Principal(user_id=user.id, username=name, role=role,
                                                                      region_code=region))


async def refused_within(http: httpx.AsyncClient, port: int, token: str, seconds: float) -> httpx.Response:
    """GET /auth/me until it is refused or `seconds` pass (0: one try); the last answer."""
    deadline = time.monotonic() + seconds
    while True:
        me = await http.get(f"http://127.0.0.1:{port}/api/v1/auth/me", headers=bearer(token))
        if me.status_code != 200 or time.monotonic() >= deadline:
            return me
        await asyncio.sleep(0.01)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def live_socket(port: int, token: str, region: str = "SX"):
    ws = await open_ws(port, token)
    await subscribe(ws, region)
    return ws


async def assert_closed_4401(ws, since: float, words: str) -> float:
    code, frames = await closed_with(ws, within=WITHIN_S + 1)
    took = time.monotonic() - since
    assert code == 4401, (code, frames)
    assert ws.close_reason and words in ws.close_reason, ws.close_reason
    assert took <= WITHIN_S, f"closed after {took:.2f} s"
    return took


async def test_a_socket_is_closed_when_its_token_expires(servers, city: City) -> None:
    short = city.settings.model_copy(update={"token_ttl_s": 2})
    _, token = await account(city, settings=short)
    ws = await live_socket(B, token)
    expires = verify_token(short, token).expires_at
    code, _ = await closed_with(ws, within=5)
    assert code == 4401 and "expired" in ws.close_reason
    assert -0.1 <= time.time() - expires <= 1.0  # at expiry, not at the next heartbeat


async def test_an_auth_frame_before_expiry_renews_the_socket(servers, city: City, rds: Redis) -> None:
    short = city.settings.model_copy(update={"token_ttl_s": 3})
    _, token = await account(city, settings=short)
    ws = await open_ws(B, None)
    await ws.send(json.dumps({"type": "auth", "token": token}))
    hello = await recv(ws)
    assert hello["type"] == "hello" and hello["expires_at"] == int(verify_token(short, token).expires_at)
    await subscribe(ws, "SX")
    async with httpx.AsyncClient() as http:  # the fresh token, as the pages get it (through the other process)
        r = await http.post(f"http://127.0.0.1:{A}/api/v1/auth/renew", headers=bearer(token))
    assert r.status_code == 200, r.text
    await ws.send(json.dumps({"type": "auth", "token": r.json()["access_token"]}))
    renewed = await recv(ws)
    assert renewed == {"type": "renewed", "expires_at": r.json()["expires_at"]}
    assert await silent(ws, 3.5) == []  # past the first token's expiry: still open
    incident = await new_incident(city, rds, "SX")
    await emit(city, rds, incident)
    frame = await recv(ws, 3)
    while frame["type"] == "event" and frame["event"]["kind"] == "incident.created":
        frame = await recv(ws, 3)
    assert frame["type"] == "event" and frame["event"]["incident_id"] == incident.id  # still delivering
    _, other = await account(city)
    await ws.send(json.dumps({"type": "auth", "token": other}))
    refused = await recv(ws)
    assert refused["type"] == "error" and refused["code"] == "forbidden"  # another account: not a renewal
    await ws.send(json.dumps({"type": "auth", "token": "not-a-token"}))
    refused = await recv(ws)
    assert refused["type"] == "error" and refused["code"] == "not_authenticated"  # nothing changed
    assert await silent(ws, 0.5) == []


@pytest.mark.parametrize("change", ["disable", "demote", "end sessions", "logout", "delete"])
async def test_an_account_change_through_one_process_closes_sockets_on_every_process_within_2s(
        servers, city: City, rds: Redis, change: str) -> None:
    admin = bearer(city.tokens["admin"])
    uid, token = await account(city)
    on_b, on_a = await live_socket(B, token), await live_socket(A, token)
    async with httpx.AsyncClient() as http:
        for port in (A, B):
            assert (await http.get(f"http://127.0.0.1:{port}/api/v1/auth/me", headers=bearer(token))).status_code == 200
        since = time.monotonic()
        if change == "disable":
            r = await http.post(f"http://127.0.0.1:{A}/api/v1/admin/users/{uid}/disable", headers=admin)
        elif change == "demote":
            r = await http.put(f"http://127.0.0.1:{A}/api/v1/admin/users/{uid}/role", headers=admin,
                               json={"role": "worker", "region_code": "SX"})
        elif change == "end sessions":
            r = await http.post(f"http://127.0.0.1:{A}/api/v1/admin/users/{uid}/sessions/end", headers=admin)
        elif change == "logout":
            r = await http.post(f"http://127.0.0.1:{A}/api/v1/auth/logout", headers=bearer(token))
        else:  # an account deleted by hand, announced as any tool that deletes accounts must
            async with city.sessionmaker() as s, s.begin():
                await s.execute(text("DELETE FROM users WHERE id = :id"), {"id": uid})
            await announce(rds, [uid])
            r = httpx.Response(200)
        assert r.status_code in (200, 204), r.text
        # HTTP: at once on the process that made the change (it evicted before answering); on a process that
        # hears of it through pub/sub, as soon as the message is read (a request may race it by a few ms).
        made_by_a = change != "delete"
        for port in (A, B):
            within = 0.0 if made_by_a and port == A else 1.0
            me = await refused_within(http, port, token, within)
            assert me.status_code == 401 and me.json()["error"]["code"] == "not_authenticated", (port, me.text)
    await assert_closed_4401(on_b, since, "")
    await assert_closed_4401(on_a, since, "")


async def test_a_subscribe_is_held_against_the_account_as_it_is_now(servers, city: City) -> None:
    uid, token = await account(city)
    ws = await live_socket(B, token)
    async with city.sessionmaker() as s, s.begin():  # changed in psql: nobody announces it, the cache keeps 30 s
        await s.execute(text("UPDATE users SET region_code = 'SY' WHERE id = :id"), {"id": uid})
    since = time.monotonic()
    await ws.send(json.dumps({"type": "subscribe", "region": "SX"}))
    code, frames = await closed_with(ws, within=3)
    assert code == 4401 and frames == [] and time.monotonic() - since < 1.0, (code, frames)
    assert "changed" in ws.close_reason


async def test_an_unannounced_change_closes_sockets_within_the_cache_window(city: City) -> None:
    port = free_port()
    proc = start_server(port, server_env(city.settings, GRIDCMD_DISPATCH_BACKGROUND="false",
                                         GRIDCMD_ACCOUNT_CACHE_S="1"))
    try:
        wait_ready(port, proc=proc)
        uid, token = await account(city)
        ws = await live_socket(port, token)
        async with city.sessionmaker() as s, s.begin():
            await s.execute(text("UPDATE users SET active = false WHERE id = :id"), {"id": uid})
        since = time.monotonic()
        code, _ = await closed_with(ws, within=5)
        assert code == 4401 and "disabled" in ws.close_reason
        assert time.monotonic() - since <= 2 * 1.0 + 0.5  # cache entry (1 s) + the sweep that finds it (1 s)
    finally:
        stop(proc)
        await asyncio.sleep(0)


async def test_forged_and_expired_tokens_never_open_a_socket(servers, city: City) -> None:
    uid, token = await account(city)
    claims = verify_token(city.settings, token)
    old_default = city.settings.model_copy(update={"secret_key": "dev-insecure-key-change-me-in-production-0123456789"})
    forged = {
        "old default key": issue_token(old_default, claims.principal),
        "alg none": jwt.encode({"sub": str(uid), "usr": claims.principal.username, "role": "operator", "reg": "SX",
                                "sid": "s", "jti": "j", "exp": int(time.time()) + 600}, None, algorithm="none"),
        "expired": issue_token(city.settings.model_copy(update={"token_ttl_s": -1}), claims.principal),
    }
    for what, bad in forged.items():
        ws = await open_ws(B, None)
        await ws.send(json.dumps({"type": "auth", "token": bad}))
        code, frames = await closed_with(ws, within=3)
        assert code == 4401 and frames == [], (what, code, frames)  # nothing was sent before the close
