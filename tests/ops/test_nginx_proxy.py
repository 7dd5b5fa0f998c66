"""deploy/nginx/gridcmd.conf in front of `gridcmd serve`, with Debian's nginx (started here on kernel-chosen
ports, the certificate from the local CA): HTTPS, the WebSocket upgrade, the forwarded headers believed through
GRIDCMD_TRUSTED_PROXIES (a client's own X-Forwarded-For is overwritten, so it cannot pick a fresh rate-limit
budget), nginx's request id reaching the app, /ca on plain HTTP and everything else redirected, /metrics denied."""

from __future__ import annotations

import asyncio
import json
import shutil
import ssl
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from command.core.db import make_sessionmaker
from command.ops.ca import init_ca, issue
from tests.dispatch_fixtures import add_user, seed_world
from tests.environment import make_test_settings
from tests.ops.served import gridcmd_serve
from tests.procs import ROOT, kernel_ports, stop

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
CONF = ROOT / "deploy" / "nginx" / "gridcmd.conf"
pytestmark = pytest.mark.timeout(90)


def site(ca: Path, upstream: int, http_port: int, https_port: int) -> str:
    text = CONF.read_text()
    for old, new in (("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream};"),
                     ("listen 80;", f"listen 127.0.0.1:{http_port};"),
                     ("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"),
                     ("/opt/gridcmd/var/ca/", f"{ca}/")):
        assert old in text, old
        text = text.replace(old, new)
    return text


def start_nginx(work: Path, site_text: str) -> subprocess.Popen:
    (work / "site.conf").write_text(site_text)
    (work / "nginx.conf").write_text(
        f"pid {work}/nginx.pid;\nerror_log {work}/error.log;\nevents {{}}\n"
        f"http {{\n access_log {work}/access.log;\n client_body_temp_path {work}/body;\n"
        f" proxy_temp_path {work}/proxy;\n include {work}/site.conf;\n}}\n")
    check = subprocess.run([NGINX, "-t", "-c", str(work / "nginx.conf"), "-p", str(work)], capture_output=True,
                           text=True)
    assert check.returncode == 0, check.stderr
    return subprocess.Popen([NGINX, "-c", str(work / "nginx.conf"), "-p", str(work), "-g", "daemon off;"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def test_the_proxy_example_serves_gridcmd(clean_db, redis) -> None:
    settings = make_test_settings()
    async with make_sessionmaker(clean_db)() as s, s.begin():
        await seed_world(s)
        op = await add_user(s, settings, username="op", role="operator")
    work = Path(tempfile.mkdtemp(prefix="gridcmd-nginx-"))
    init_ca(work)
    issue(work, names=["gridcmd.example.lan"], ips=["127.0.0.1"])
    verify = ssl.create_default_context(cafile=str(work / "ca.crt"))
    http_port, https_port = kernel_ports(2)
    with gridcmd_serve(settings, GRIDCMD_TRUSTED_PROXIES="127.0.0.1", GRIDCMD_RESIDENT_RATE_PER_MIN="3",
                       GRIDCMD_CA_DIR=str(work), GRIDCMD_LOG_LEVEL="warning") as served:
        nginx = start_nginx(work, site(work, served.port, http_port, https_port))
        base = f"https://127.0.0.1:{https_port}"
        try:
            async with httpx.AsyncClient(verify=verify, timeout=10) as http:
                for _ in range(50):
                    try:
                        if (await http.get(base + "/healthz")).status_code == 200:
                            break
                    except httpx.TransportError:
                        await asyncio.sleep(0.1)
                r = await http.get(base + "/healthz")
                assert r.status_code == 200 and len(r.headers["x-request-id"]) == 32  # nginx's $request_id
                # A client's own X-Forwarded-For is overwritten by the proxy: one client, one budget.
                statuses = [(await http.get(f"{base}/api/v1/track/{uuid.uuid4()}", headers={
                    "X-Tracking-Token": "x", "X-Forwarded-For": f"203.0.113.{i}"})).status_code for i in range(5)]
                assert statuses == [404, 404, 404, 429, 429]
                assert (await http.get(base + "/metrics")).status_code == 403
                plain = f"http://127.0.0.1:{http_port}"
                assert (await http.get(plain + "/ca")).status_code == 200
                redirect = await http.get(plain + "/m")
                assert redirect.status_code == 301 and redirect.headers["location"].startswith("https://")
            started = time.monotonic()
            async with connect(f"wss://127.0.0.1:{https_port}/ws", ssl=verify, open_timeout=5) as ws:
                await ws.send(json.dumps({"type": "auth", "token": op.token}))
                hello = json.loads(await asyncio.wait_for(ws.recv(), 5))
                assert hello["type"] == "hello", hello
            assert time.monotonic() - started < 5
        finally:
            stop(nginx, timeout=5)
            shutil.rmtree(work, ignore_errors=True)
