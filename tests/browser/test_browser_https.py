"""The worker app over HTTPS with the local CA, at a name that is not localhost (Chromium maps gridcmd.test to
127.0.0.1 and trusts the certificate by its key, --ignore-certificate-errors-spki-list: a trusted certificate,
not an ignored error, so the page is a secure context): location shared, the service worker installed, an
order received. Over plain HTTP at the same name the page says why location is unavailable. And /ca."""

from __future__ import annotations

import base64
import hashlib
import os
import ssl
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from playwright.async_api import Browser, async_playwright
from redis.asyncio import Redis

from command.ops.ca import init_ca, issue
from tests.browser_kit import CHROMIUM, CHROMIUM_ARGS, PHONE, shot, sql, until, worker_home
from tests.environment import make_test_settings
from tests.ops.served import Served, gridcmd_serve

pytestmark = pytest.mark.timeout(180)
NAME = "gridcmd.test"
WORKER = "w0001"


def spki_hash(cert_pem: bytes) -> str:
    """base64(SHA-256(SubjectPublicKeyInfo)): what --ignore-certificate-errors-spki-list takes."""
    cert = x509.load_pem_x509_certificates(cert_pem)[0]
    spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


@pytest.fixture(scope="module")
def ca_dir() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="gridcmd-ca-"))
    init_ca(folder)
    issue(folder, names=[NAME], ips=["127.0.0.1"])
    return folder


def _env(ca: Path, **extra: str) -> dict[str, str]:
    return {"GRIDCMD_CA_DIR": str(ca), "GRIDCMD_LOG_LEVEL": "warning", "GRIDCMD_PRESENCE_WARMUP_QUORUM": "0",
            "GRIDCMD_UPLOAD_DIR": tempfile.mkdtemp(prefix="gridcmd-uploads-"), **extra}


@pytest.fixture(scope="module")
async def https_server(demo_db, ca_dir) -> AsyncIterator[Served]:
    settings = make_test_settings()
    async with Redis.from_url(settings.redis_url) as r:
        await r.flushdb()
    with gridcmd_serve(settings, ca_file=str(ca_dir / "ca.crt"), **_env(
            ca_dir, GRIDCMD_TLS_CERT_FILE=str(ca_dir / "server.crt"),
            GRIDCMD_TLS_KEY_FILE=str(ca_dir / "server.key"))) as served:
        yield served


@pytest.fixture(scope="module")
async def chromium(ca_dir) -> AsyncIterator[Browser]:
    pem = (ca_dir / "server.crt").read_bytes()
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=[
            *CHROMIUM_ARGS, f"--host-resolver-rules=MAP {NAME} 127.0.0.1",
            f"--ignore-certificate-errors-spki-list={spki_hash(pem)}"])
        try:
            yield browser
        finally:
            await browser.close()


async def _op_token(base: str, verify: ssl.SSLContext | bool) -> dict[str, str]:
    async with httpx.AsyncClient(verify=verify, timeout=20) as http:
        r = await http.post(base + "/api/v1/auth/token", data={"username": "operator", "password": "demo1234"})
        r.raise_for_status()
        return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def _sign_in(browser: Browser, url: str, geo: tuple[float, float]):
    ctx = await browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai",
                                    geolocation={"longitude": geo[0], "latitude": geo[1], "accuracy": 8},
                                    permissions=["geolocation"])
    page = await ctx.new_page()
    await page.goto(url)
    await page.fill("#m-username", WORKER)
    await page.fill("#m-password", "demo1234")
    await page.click("#signin-submit")
    await page.wait_for_selector("#duty")
    return ctx, page


async def test_worker_app_over_https_with_the_local_ca(https_server, chromium, ca_dir, engine) -> None:
    verify = ssl.create_default_context(cafile=str(ca_dir / "ca.crt"))
    base = f"https://{NAME}:{https_server.port}"
    wid, lon, lat = await worker_home(engine, WORKER)
    ctx, page = await _sign_in(chromium, base + "/m", (lon, lat))
    try:
        assert await page.evaluate("window.isSecureContext") is True
        assert await page.evaluate("location.protocol") == "https:"
        scope = await page.evaluate("navigator.serviceWorker.ready.then(r => r.scope)")
        assert scope == base + "/m"
        await page.click("#duty")
        await page.wait_for_function("() => document.querySelector('#gps').textContent.includes('位置共享中')")
        op = await _op_token(https_server.base, verify)

        async def present() -> bool:
            async with httpx.AsyncClient(verify=verify, timeout=10) as http:
                items = (await http.get(https_server.base + "/api/v1/workers", headers=op)).json()["items"]
            return any(w["id"] == wid and w["present"] and w["lon"] is not None for w in items)

        await until(present, what="the worker's position over HTTPS")
        async with httpx.AsyncClient(verify=verify, timeout=10) as http:
            r = await http.post(https_server.base + "/api/v1/alerts", headers=op, json={
                "category": "health", "description": "老人摔倒需要协助", "lon": lon + 0.0003, "lat": lat + 0.0002,
                "channel": "hotline"})
        assert r.status_code == 201, r.text
        assert any(o["worker_id"] == wid for o in r.json()["orders"])
        await page.locator("#incoming").wait_for(state="visible", timeout=10000)  # pushed over wss://
        await shot(page, "m-https-order")
        rows = await sql(engine, "SELECT count(*) FROM orders WHERE worker_id = :w", w=wid)
        assert rows[0][0] >= 1
        await page.reload()  # the installed service worker now controls the app (its offline shell)
        await page.wait_for_selector("#duty")
        assert await page.evaluate("!!navigator.serviceWorker.controller")
    finally:
        await ctx.close()


async def test_plain_http_at_a_lan_name_says_why_there_is_no_location(demo_db, chromium, ca_dir) -> None:
    with gridcmd_serve(make_test_settings(), **_env(ca_dir)) as served:
        ctx, page = await _sign_in(chromium, f"http://{NAME}:{served.port}/m", (118.78, 32.04))
        try:
            assert await page.evaluate("window.isSecureContext") is False
            assert await page.evaluate("'serviceWorker' in navigator") is False
            expected = "未通过 HTTPS 打开，浏览器不允许定位"
            assert expected in await page.inner_text("#gps")
            # Going on duty changes nothing: still says why (a click by script: an order offered earlier may
            # cover the button with its sheet).
            await page.evaluate("document.querySelector('#duty').click()")
            assert expected in await page.inner_text("#gps")
            await shot(page, "m-http-insecure")
        finally:
            await ctx.close()


async def test_ca_page_and_download(https_server, chromium, ca_dir) -> None:
    base = f"https://{NAME}:{https_server.port}"
    ctx = await chromium.new_context(viewport=PHONE, locale="zh-CN")
    page = await ctx.new_page()
    try:
        await page.goto(base + "/ca")
        fp = await page.inner_text("#ca-fingerprint")
        assert fp.count(":") == 31
        for platform in ("android", "ios", "harmony"):
            assert await page.locator(f"#ca-{platform} li").count() >= 3
        assert "安卓" in await page.inner_text("#ca-android h2")
        await shot(page, "ca-page")
        await page.goto(base + "/ca?lang=en")
        assert "HarmonyOS" in await page.inner_text("#ca-harmony h2")
    finally:
        await ctx.close()
    verify = ssl.create_default_context(cafile=str(ca_dir / "ca.crt"))
    async with httpx.AsyncClient(verify=verify, timeout=10) as http:
        r = await http.get(https_server.base + "/ca/gridcmd-ca.crt")
    assert r.status_code == 200 and r.headers["content-type"] == "application/x-x509-ca-cert"
    assert r.content == (ca_dir / "ca.crt").read_bytes()
    assert os.path.basename(str(ca_dir / "ca.key")) not in r.text  # the key is never served
