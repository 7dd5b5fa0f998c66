"""The 12345 platform link: the signed inbound webhook (idempotent, every bad request a clear 4xx that
stores nothing) and the outbound status reports — written with the change itself, delivered in order
per work order once the platform's receiver (a real HTTP server on a port the kernel chose) comes back, by real
`gridcmd scheduler` processes, across a kill -9."""

from __future__ import annotations

import asyncio
import json
import signal
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import orjson
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from command.core.errors import Forbidden, NotAuthenticated
from command.core.events import Actor
from command.core.lifecycle import IncidentStatus as S
from command.core.models import Deadline, HotlineCategory, HotlineOutbox, Incident
from command.core.moves import move_incident
from command.intake.channels.hotline12345 import KEY_SCOPE
from command.intake.channels.hotline_sign import sign, verify
from tests import loop_procs
from tests import loop_world as w
from tests.environment import make_test_settings
from tests.procs import free_port, server_env

SECRET = "shared-12345-secret"
RECEIVER_PORT = free_port()
pytestmark = pytest.mark.timeout(120)


class Receiver:
    """The platform's endpoint: records every POST; answers `status` (503 while 'failing')."""

    def __init__(self, port: int) -> None:
        self.port, self.received, self.status = port, [], 200
        self.server: ThreadingHTTPServer | None = None
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if outer.status == 200:
                    outer.received.append((dict(self.headers), body))
                self.send_response(outer.status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.handler = Handler

    def start(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), self.handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(RECEIVER_PORT)
    yield r
    r.stop()


@pytest.fixture
async def app(clean_db: AsyncEngine):
    settings = make_test_settings(hotline_secret=SECRET)
    async with w.loop_app(clean_db, settings) as app:
        async with app.sessionmaker() as s, s.begin():
            s.add(HotlineCategory(their_code="0301", category_code="water"))
        yield app


def _signed(body: dict | bytes, *, secret: str = SECRET, ts: int | None = None) -> tuple[bytes, dict]:
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    ts = int(time.time()) if ts is None else ts
    return raw, {"X-Timestamp": str(ts), "X-Signature": sign(secret, ts, raw), "Content-Type": "application/json"}


def _order(**kw: object) -> dict:
    lon, lat = w.POINTS["D1S1C1G1"]
    return {"id": "BJ12345-0001", "category": "0301", "description": "小区停水", "lon": lon, "lat": lat,
            "deadline": (datetime.now(UTC) + timedelta(days=2)).isoformat(),
            "reporter": {"name": "王", "phone": "13800000000"}} | kw


async def _incidents(app) -> int:
    async with app.sessionmaker() as s:
        return await s.scalar(select(func.count()).select_from(Incident))


def test_signature_rules() -> None:
    body, now = b'{"a":1}', time.time()
    good = sign(SECRET, int(now), body)
    verify(secret=SECRET, window_s=300, timestamp=str(int(now)), signature=good, body=body, now=now)
    for ts, sig, secret, exc in ((str(int(now)), "0" * 64, SECRET, NotAuthenticated),
                                 (str(int(now) - 301), sign(SECRET, int(now) - 301, body), SECRET, NotAuthenticated),
                                 ("soon", good, SECRET, NotAuthenticated), (None, good, SECRET, NotAuthenticated),
                                 (str(int(now)), good, "", Forbidden)):
        with pytest.raises(exc):
            verify(secret=secret, window_s=300, timestamp=ts, signature=sig, body=body, now=now)


async def test_inbound_work_order_is_idempotent_and_bad_input_stores_nothing(app) -> None:
    c = app.client
    url = "/api/v1/hotline/12345/orders"
    deadline = datetime.now(UTC) + timedelta(days=2)
    raw, headers = _signed(_order(deadline=deadline.isoformat()))
    r = await c.post(url, content=raw, headers=headers)
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["created"] and first["work_order_id"] == "BJ12345-0001" and first["tracking_token"]
    async with app.sessionmaker() as s:
        inc = await s.get(Incident, first["incident_id"])
        assert (inc.channel, inc.external_id, inc.category_code) == ("hotline", "BJ12345-0001", "water")
        assert abs((inc.resolve_due_at - deadline).total_seconds()) < 1
        live = await s.scalar(select(Deadline).where(Deadline.incident_id == inc.id, Deadline.kind == "resolve",
                                                     Deadline.order_id.is_(None), Deadline.met_at.is_(None)))
        assert abs((live.due_at - deadline).total_seconds()) < 1
        reports = list(await s.scalars(select(HotlineOutbox.payload).where(HotlineOutbox.incident_id == inc.id)))
    assert reports and all(p["work_order_id"] == "BJ12345-0001" for p in reports)
    raw, headers = _signed(_order(deadline=deadline.isoformat()))
    r = await c.post(url, content=raw, headers=headers)  # the platform re-sends it
    assert r.status_code == 200 and r.json()["incident_id"] == first["incident_id"] and not r.json()["created"]
    count = await _incidents(app)

    now = int(time.time())
    cases = [
        (_signed(_order(id="X2"))[0], {"Content-Type": "application/json"}, 401),          # unsigned
        (*_signed(_order(id="X2"), secret="wrong"), 401),
        (*_signed(_order(id="X2"), ts=now - 3600), 401),                                   # replayed later
        (*_signed(_order(id="X2", category="9999")), 422),                                 # unmapped category
        (*_signed(_order(id="X2", lon=500)), 422),
        (*_signed(_order(id="X2", deadline="2020-01-01T00:00:00+08:00")), 422),            # already past
        (*_signed(_order(id="X2", deadline="2999-01-01T00:00:00")), 422),                  # no timezone
        (*_signed({k: v for k, v in _order(id="X2").items() if k != "description"}), 422),
        (*_signed(_order(id="X2", extra="?")), 422),
        (*_signed(b"{not json"), 422),
        (*_signed(_order(description="另一件事")), 409),                                   # their id reused
    ]
    for raw, headers, status in cases:
        r = await c.post(url, content=raw, headers=headers)
        assert r.status_code == status, (raw[:60], r.text)
        assert "error" in r.json()
    assert await _incidents(app) == count

    # The category mapping: admins only, known categories only.
    url = "/api/v1/hotline/12345/categories"
    body = {"their_code": "0402", "category_code": "road"}
    assert (await c.put(url, json=body, headers=await app.as_("op1"))).status_code == 403
    bad = {"their_code": "0402", "category_code": "nope"}
    assert (await c.put(url, json=bad, headers=await app.as_("admin"))).status_code == 422
    assert (await c.put(url, json=body, headers=await app.as_("admin"))).status_code == 200
    r = await c.get("/api/v1/hotline/12345/categories", headers=await app.as_("op1"))
    assert r.json()["categories"] == {"0301": "water", "0402": "road"}


async def test_outbound_reports_every_change_in_order_after_the_receiver_returns(app, receiver) -> None:
    path = [S.dispatched, S.in_progress, S.resolved, S.verified, S.callback_done, S.closed]
    actor = Actor(name="op1")
    async with app.sessionmaker() as s, s.begin():
        incidents = [await w.incident(s, channel="hotline", external_id=f"WO-{i}", external_scope=KEY_SCOPE)
                     for i in range(6)]
        # A hotline-channel report an operator filed with their own ticket number is not a 12345 order either.
        plain_hotline = await w.incident(s, channel="hotline", external_id="WO-0", external_scope="u1")
        plain = await w.incident(s, channel="app")  # not a 12345 order: nothing to report
        for step in path:
            for inc in [*incidents, plain, plain_hotline]:
                await move_incident(s, incident=inc, to=step, actor=actor, kind=f"incident.{step.value}")
    async with app.sessionmaker() as s:
        # A change rolled back leaves no report.
        async with s.begin():
            inc = await s.get(Incident, incidents[0].id)
            await move_incident(s, incident=inc, to=S.reopened, actor=actor)
            await s.rollback()
        pending = await s.scalar(select(func.count()).select_from(HotlineOutbox))
    assert pending == len(incidents) * len(path)

    env = server_env(app.settings, GRIDCMD_HOTLINE_SECRET=SECRET, GRIDCMD_LOG_LEVEL="warning",
                     GRIDCMD_HOTLINE_CALLBACK_URL=f"http://127.0.0.1:{RECEIVER_PORT}/report",
                     GRIDCMD_HOTLINE_RETRY_BASE_S="0.2", GRIDCMD_HOTLINE_RETRY_MAX_S="0.5")
    first = loop_procs.start(env, interval=0.1)  # receiver down: connection refused, retried with backoff
    procs = [first]
    try:
        await loop_procs.ready(procs)
        await asyncio.sleep(2)
        receiver.status = 503  # up, but failing
        receiver.start()
        await asyncio.sleep(1.5)
        first.send_signal(signal.SIGKILL)
        first.wait()
        async with app.sessionmaker() as s:
            tried = list(await s.execute(select(HotlineOutbox.attempts, HotlineOutbox.delivered_at)))
        assert any(a >= 2 for a, _ in tried) and all(d is None for _, d in tried)
        receiver.status = 200  # back
        procs += [loop_procs.start(env, interval=0.1), loop_procs.start(env, interval=0.1)]
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            async with app.sessionmaker() as s:
                left = await s.scalar(select(func.count()).select_from(HotlineOutbox).where(
                    HotlineOutbox.delivered_at.is_(None)))
            if left == 0:
                break
            await asyncio.sleep(0.3)
        await asyncio.sleep(1)
    finally:
        for p in procs:
            loop_procs.stop(p)
    assert left == 0
    by_order: dict[str, list[tuple[str, str]]] = {}
    event_ids = []
    for headers, body in receiver.received:
        ts = int(headers["X-Timestamp"])
        verify(secret=SECRET, window_s=300, timestamp=str(ts), signature=headers["X-Signature"], body=body,
               now=time.time())
        report = json.loads(body)
        event_ids.append(report["event_id"])
        by_order.setdefault(report["work_order_id"], []).append((report["from"], report["to"]))
    assert len(event_ids) == len(set(event_ids)) == len(incidents) * len(path)  # each once
    steps = list(zip(["located", *[p.value for p in path]], [p.value for p in path], strict=False))
    assert by_order == {f"WO-{i}": steps for i in range(6)}  # every change, in order
