"""A second provincial platform is a mapping, not code: its own field names, coordinates (GCJ-02), deadline
format, priority words and category codes in; our status reports out under its names and status codes, signed with
its own secret. The 12345 link's format is the built-in mapping (its own tests: test_loop_hotline.py)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

import httpx
import orjson
import pytest
from sqlalchemy import func, select

from command.core.db import make_sessionmaker
from command.core.errors import InvalidInput
from command.core.models import HotlineOutbox, Incident
from command.intake.channels import outbox, platform_mapping
from command.intake.channels.hotline_sign import sign, verify
from geo.coords import from_wgs84
from tests.dispatch_fixtures import add_user, at
from tests.dispatch_world import dispatch_client
from tests.environment import make_test_settings
from tests.procs import free_port

SECRET = "js-12345-shared-secret"
SHANGHAI = ZoneInfo("Asia/Shanghai")
JS = {  # a made-up provincial platform: pinyin-initial field names, as such platforms write them
    "name": "江苏省12345（示例）",
    "inbound": {"id": "gdbh", "category": "sxfl", "description": "sqnr", "lon": "zb.jd", "lat": "zb.wd",
                "deadline": "clsx", "priority": "jjcd", "reporter.name": "lxr", "reporter.phone": "lxdh"},
    "constants": {"crs": "gcj02"},
    "deadline_format": "%Y-%m-%d %H:%M:%S",
    "timezone": "Asia/Shanghai",
    "priorities": {"特急": 1, "紧急": 2, "一般": 3},
    "categories": {"A01": "dispute", "B02": "noise"},
    "outbound": {"gdbh": "work_order_id", "zt": "status", "sj": "at", "sm": "reason", "xh": "event_id"},
    "statuses": {"dispatched": "02", "in_progress": "03", "resolved": "04", "closed": "05"},
    "callback_url": "",
    "strict": True,
}


def _their_order(deadline: datetime, **kw: object) -> dict:
    lon, lat = from_wgs84(*at(0.5, 1.5), "gcj02")
    order = {"gdbh": "JS-2026-0001", "sxfl": "A01", "sqnr": "楼上住户深夜吵闹，多次沟通无果",
             "zb": {"jd": lon, "wd": lat}, "clsx": deadline.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S"),
             "jjcd": "紧急", "lxr": "李四", "lxdh": "13900000000"}
    order.update(kw)
    return order


def _signed(doc: object, secret: str = SECRET) -> tuple[bytes, dict[str, str]]:
    raw = orjson.dumps(doc)
    ts = int(time.time())
    return raw, {"Content-Type": "application/json", "X-Timestamp": str(ts), "X-Signature": sign(secret, ts, raw)}


def test_mapping_reads_their_fields_and_writes_ours() -> None:
    mapping = platform_mapping.Mapping.model_validate(JS)
    deadline = datetime(2026, 12, 9, 18, 0, tzinfo=SHANGHAI)
    doc = platform_mapping.inbound(mapping, _their_order(deadline))
    assert doc["id"] == "JS-2026-0001" and doc["category"] == "A01" and doc["crs"] == "gcj02"
    assert doc["priority"] == 2 and doc["reporter"] == {"name": "李四", "phone": "13900000000"}
    assert datetime.fromisoformat(doc["deadline"]) == deadline
    with pytest.raises(InvalidInput):
        platform_mapping.inbound(mapping, _their_order(deadline, extra="?"))  # strict: unknown field
    with pytest.raises(InvalidInput):
        platform_mapping.inbound(mapping, _their_order(deadline, jjcd="火急"))  # not a priority they use
    with pytest.raises(InvalidInput):
        platform_mapping.inbound(mapping, _their_order(deadline, clsx="9 December"))
    out = platform_mapping.outbound(mapping, {"event_id": 7, "work_order_id": "JS-1", "to": "dispatched",
                                              "at": "2026-12-07T08:00:00+08:00", "reason": None, "kind": "x"})
    assert out == {"gdbh": "JS-1", "zt": "02", "sj": "2026-12-07T08:00:00+08:00", "sm": None, "xh": 7}
    builtin = platform_mapping.BUILTIN["12345"]
    same = {"id": "1", "category": "c", "description": "d", "lon": 1.0, "lat": 2.0, "deadline": "x",
            "reporter": {"name": "n"}}
    assert platform_mapping.inbound(builtin, same) == same
    assert platform_mapping.outbound(builtin, {"to": "closed"}) == {"to": "closed"}
    for bad in ({**JS, "inbound": {"id": "gdbh"}}, {**JS, "inbound": {**JS["inbound"], "colour": "ys"}},
                {**JS, "outbound": {"x": "nothing"}}, {**JS, "priorities": {"最急": 0}}, {**JS, "timezone": "Mars"}):
        with pytest.raises(ValueError):
            platform_mapping.Mapping.model_validate(bad)


class Receiver:
    """The platform's endpoint for our status reports (a real HTTP server on a port the kernel chose)."""

    def __init__(self) -> None:
        self.port, self.received = free_port(), []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append((dict(self.headers), body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


async def test_second_platform_in_and_out(world, clean_db, receiver) -> None:
    settings = make_test_settings(dispatch_background=False, hotline_platform_secrets=f"js12345={SECRET}")
    async with make_sessionmaker(clean_db)() as s, s.begin():
        admin = await add_user(s, settings, username="root", role="admin")
    mapping = {**JS, "callback_url": f"http://127.0.0.1:{receiver.port}/report"}
    deadline = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    base = "/api/v1/hotline/platforms"
    async with dispatch_client(settings) as c:
        assert (await c.put(f"{base}/js12345/mapping", json=mapping, headers=world.op.headers)).status_code == 403
        bad = await c.put(f"{base}/js12345/mapping", json={**mapping, "inbound": {}}, headers=admin.headers)
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_input"
        builtin = await c.put(f"{base}/12345/mapping", json=mapping, headers=admin.headers)
        assert builtin.status_code == 422
        saved = await c.put(f"{base}/js12345/mapping", json=mapping, headers=admin.headers)
        assert saved.status_code == 200, saved.text
        assert (await c.get(f"{base}/js12345/mapping", headers=world.op.headers)).json()["categories"] == {
            "A01": "dispute", "B02": "noise"}

        url = f"{base}/js12345/orders"
        first = await c.post(url, content=(signed := _signed(_their_order(deadline)))[0], headers=signed[1])
        assert first.status_code == 201, first.text
        again = await c.post(url, content=(signed := _signed(_their_order(deadline)))[0], headers=signed[1])
        assert again.status_code == 200 and again.json()["incident_id"] == first.json()["incident_id"]
        before = await _count(clean_db)
        refusals = [
            (url, _signed(_their_order(deadline, gdbh="JS-2"), secret="wrong"), 401),
            (url, _signed(_their_order(deadline, gdbh="JS-2", sxfl="Z99")), 422),      # unmapped category
            (url, _signed(_their_order(deadline, gdbh="JS-2", extra=1)), 422),         # strict mapping
            (url, _signed(_their_order(deadline, gdbh="JS-2", clsx="明天")), 422),
            (url, _signed(["not", "an", "object"]), 422),
            (f"{base}/nowhere/orders", _signed(_their_order(deadline, gdbh="JS-2")), 404),
        ]
        for target, (raw, headers), status in refusals:
            r = await c.post(target, content=raw, headers=headers)
            assert r.status_code == status, (target, raw[:50], r.text)
        assert await _count(clean_db) == before
    async with _link_off(settings) as unconfigured:  # no secret: the link is off
        r = await unconfigured.post(url, content=(signed := _signed(_their_order(deadline, gdbh="JS-3")))[0],
                                    headers=signed[1])
        assert r.status_code == 403

    async with make_sessionmaker(clean_db)() as s:
        incident = await s.get(Incident, first.json()["incident_id"])
        reports = list(await s.scalars(select(HotlineOutbox).where(HotlineOutbox.incident_id == incident.id)
                                       .order_by(HotlineOutbox.id)))
    assert (incident.channel, incident.external_id, incident.external_scope) == ("hotline", "JS-2026-0001",
                                                                                 "p:js12345")
    assert incident.category_code == "dispute" and incident.priority == 2 and incident.status == "dispatched"
    assert incident.region_code == "CA1"  # GCJ-02 converted back to WGS-84 at the edge
    assert abs(incident.lon - at(0.5, 1.5)[0]) < 1e-5 and abs(incident.lat - at(0.5, 1.5)[1]) < 1e-5
    assert incident.resolve_due_at == deadline
    assert reports and all(r.payload["platform"] == "js12345" for r in reports)

    async with httpx.AsyncClient() as http:
        done = await outbox.deliver_due(make_sessionmaker(clean_db), http, settings, limit=50)
    assert done.ok == len(reports) and done.failed == 0
    bodies = []
    for headers, raw in receiver.received:
        verify(secret=SECRET, window_s=300, timestamp=headers["X-Timestamp"], signature=headers["X-Signature"],
               body=raw, now=time.time())
        bodies.append(json.loads(raw))
    assert all(set(b) == {"gdbh", "zt", "sj", "sm", "xh"} and b["gdbh"] == "JS-2026-0001" for b in bodies)
    assert [b["xh"] for b in bodies] == sorted(b["xh"] for b in bodies)  # in order
    assert bodies[-1]["zt"] == "02"  # dispatched, in their code


async def _count(engine) -> int:
    async with make_sessionmaker(engine)() as s:
        return await s.scalar(select(func.count()).select_from(Incident))


def _link_off(settings):
    """The app with no platform secret configured."""
    return dispatch_client(settings.model_copy(update={"hotline_platform_secrets": ""}))
