"""In Chromium: the login page sends the user only to a path of this site (never to another host, whatever
`next` says), and the pages' shared socket client renews its token before expiry (the socket stays open past
the first token's life, the stored token is replaced). A real server process, real PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator

import pytest
from playwright.async_api import Browser, Page, async_playwright
from redis.asyncio import Redis

from command.admin.users import create_user
from command.core.db import make_sessionmaker
from tests.browser_kit import launch
from tests.environment import make_test_settings
from tests.loop_world import truncate
from tests.procs import free_port, server_env, start_server, stop, wait_ready

PW = "secret-pw"
TTL_S = 10


@pytest.fixture(scope="module")
async def users(engine) -> None:
    # Once, before the server starts: truncating under a running server's transactions can deadlock.
    await truncate(engine)
    async with Redis.from_url(make_test_settings().redis_url) as r:
        await r.flushdb()
    async with make_sessionmaker(engine)() as s, s.begin():
        await create_user(s, username="op", password=PW, role="operator")


@pytest.fixture(scope="module")
def base(migrated, users) -> Iterator[str]:
    port = free_port()
    proc = start_server(port, server_env(migrated, GRIDCMD_TOKEN_TTL_S=str(TTL_S), GRIDCMD_DISPATCH_BACKGROUND="false"))
    try:
        wait_ready(port, proc=proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        b = await launch(pw)
        yield b
        await b.close()


async def new_page(browser: Browser) -> Page:
    context = await browser.new_context()
    page = await context.new_page()
    page.errors = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))  # type: ignore[attr-defined]
    return page


# What reaches safeNext (URLSearchParams has decoded the query), and where it may lead.
NEXTS = {
    "/\t/evil.example/x": "/screen",  # next=/%09/evil.example/x: the browser drops the tab → //evil.example/x
    "/\n/evil.example/x": "/screen",
    "//evil.example/x": "/screen",
    "/\\evil.example/x": "/screen",  # the URL parser reads \ as /
    "/\\/evil.example/x": "/screen",
    "javascript:alert(1)": "/screen",
    "https://evil.example/": "/screen",
    "": "/screen",
    "/console?incident=7#detail": "/console?incident=7#detail",
    "/%2F%2Fevil.example": "/%2F%2Fevil.example",  # percent-encoded slashes stay a path of this site
}


async def test_the_login_redirect_never_leaves_the_site(base: str, browser: Browser) -> None:
    page = await new_page(browser)
    await page.goto(f"{base}/login")
    for candidate, expected in NEXTS.items():
        got = await page.evaluate("n => window.gridcmd.auth.safeNext(n)", candidate)
        assert got == expected, (candidate, got)
    # End to end: the raw query a link would carry, then a real login.
    for raw in ("/%09/evil.example/x", "%2F%5Cevil.example", "//evil.example"):
        await page.goto(f"{base}/login?next={raw}")
        await page.fill("#username", "op")
        await page.fill("#password", PW)
        await page.click("#login-submit")
        await page.wait_for_url(lambda url: "/login" not in url)
        assert page.url == f"{base}/screen", (raw, page.url)  # this site's default page, not evil.example
    assert page.errors == []  # type: ignore[attr-defined]
    await page.context.close()


async def test_the_socket_client_renews_its_token_before_expiry(base: str, browser: Browser) -> None:
    page = await new_page(browser)
    sent: list[dict] = []
    received: list[dict] = []
    closed: list[int] = []

    def watch(ws) -> None:
        ws.on("framesent", lambda payload: sent.append(json.loads(payload)))
        ws.on("framereceived", lambda payload: received.append(json.loads(payload)))
        ws.on("close", lambda _: closed.append(time.monotonic()))

    page.on("websocket", watch)
    await page.goto(f"{base}/login?next=/console")
    await page.fill("#username", "op")
    await page.fill("#password", PW)
    await page.click("#login-submit")
    await page.wait_for_url(f"{base}/console")
    await page.wait_for_load_state()
    first = await page.evaluate("() => JSON.parse(localStorage.getItem('gridcmd.auth'))")
    await asyncio.sleep(TTL_S * 1.6)  # well past the first token's expiry
    renewals = [f for f in received if f.get("type") == "renewed"]
    auths = [f for f in sent if f.get("type") == "auth"]
    assert renewals and len(auths) >= 2, (sent, received)
    assert closed == [], "the socket was closed"
    assert next(f for f in received if f.get("type") == "hello")["expires_at"] == first["expires_at"]
    now = await page.evaluate("() => JSON.parse(localStorage.getItem('gridcmd.auth'))")
    assert now["access_token"] != first["access_token"] and now["expires_at"] > time.time()
    assert auths[-1]["token"] == now["access_token"] or renewals[-1]["expires_at"] <= now["expires_at"]
    assert page.url == f"{base}/console"  # never sent back to the login page
    assert page.errors == []  # type: ignore[attr-defined]
    await page.context.close()

