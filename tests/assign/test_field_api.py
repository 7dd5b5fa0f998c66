"""The API behind the field and public pages, in process against real PostgreSQL (demo city) and Redis:
Idempotency-Key on actions, a worker's arrival and notes, the resident intake and photo upload (rate-limited,
nothing private), ad-hoc patrol findings, the liaison's department card, and the page shells."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import text

from command.core.db import make_sessionmaker
from command.core.request_keys import KEEP, prune_keys
from command.demo.people import DEMO_PASSWORD
from geo.coords import from_wgs84
from tests.browser_kit import png, worker_home
from tests.environment import make_test_settings
from tests.helpers import app_client, login

pytestmark = pytest.mark.usefixtures("demo_db")


def no_wait(settings):
    """Over an empty Redis none of the demo's 320 on-duty workers has reported; these tests place the one they
    need, so dispatch must not wait for the others (the presence warm-up: tests/assign/test_dispatch_warmup.py)."""
    return settings.model_copy(update={"presence_warmup_quorum": 0.0})


async def count(engine, query: str, **params: object) -> int:
    async with engine.connect() as conn:
        return (await conn.execute(text(query), params)).scalar_one()


async def who(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    return await login(client, username, DEMO_PASSWORD)


async def offered_order(client: httpx.AsyncClient, engine, worker: str = "w0001") -> tuple[dict, int]:
    """The worker reports their position; an alert next to them gives them an order."""
    wid, lon, lat = await worker_home(engine, worker)
    w = await who(client, worker)
    duty = await client.post("/api/v1/workers/me/status", json={"status": "available"}, headers=w)
    here = await client.post("/api/v1/workers/me/position", json={"lon": lon, "lat": lat}, headers=w)
    assert duty.status_code == 200 and here.status_code == 200
    op = await who(client, "operator")
    r = await client.post("/api/v1/alerts", headers=op, json={
        "category": "health", "description": "需要上门查看", "lon": lon + 0.0002, "lat": lat, "channel": "hotline"})
    assert r.status_code == 201, r.text
    (oid,) = [o["id"] for o in r.json()["orders"] if o["worker_id"] == wid]
    return w, oid


async def test_an_action_with_a_key_is_applied_once(settings, redis, engine) -> None:
    async with app_client(no_wait(settings)) as client:
        w, oid = await offered_order(client, engine)
        key = {"Idempotency-Key": str(uuid.uuid4())}
        first = await client.post(f"/api/v1/orders/{oid}/accept", headers=w | key)
        again = await client.post(f"/api/v1/orders/{oid}/accept", headers=w | key)
        assert first.status_code == 200 and "idempotent-replayed" not in first.headers
        assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
        assert again.json()["replayed"] is True
        assert await count(engine, "SELECT count(*) FROM events WHERE order_id = :o AND kind = 'order.accepted'",
                           o=oid) == 1
        # Without the key the same retry is refused by the state machine (what the key saves the phone from).
        assert (await client.post(f"/api/v1/orders/{oid}/accept", headers=w)).status_code == 409
        # The key of another action: refused, nothing changes.
        other = await client.post(f"/api/v1/orders/{oid}/arrive", headers=w | key, json={})
        assert other.status_code == 409 and "another request" in other.json()["error"]["message"]
        assert await count(engine, "SELECT count(*) FROM events WHERE order_id = :o AND kind = 'order.arrived'",
                           o=oid) == 0
        bad = await client.post(f"/api/v1/orders/{oid}/arrive", headers=w | {"Idempotency-Key": "has space"}, json={})
        assert bad.status_code == 422
        # A refused action does not use its key up: fixed and sent again with the same key, it applies.
        retry = {"Idempotency-Key": str(uuid.uuid4())}
        assert (await client.post(f"/api/v1/orders/{oid}/notes", headers=w | retry, json={})).status_code == 422
        ok = await client.post(f"/api/v1/orders/{oid}/notes", headers=w | retry, json={"text": "在现场"})
        assert ok.status_code == 201 and ok.json()["kind"] == "order.progress"


async def test_arrival_and_notes_are_the_assigned_workers_and_checked(settings, redis, engine) -> None:
    async with app_client(no_wait(settings)) as client:
        w, oid = await offered_order(client, engine)
        early = await client.post(f"/api/v1/orders/{oid}/arrive", headers=w, json={})
        assert early.status_code == 409  # accept first
        assert (await client.post(f"/api/v1/orders/{oid}/accept", headers=w)).status_code == 200
        other = await who(client, "w0002")
        assert (await client.post(f"/api/v1/orders/{oid}/arrive", headers=other, json={})).status_code == 404
        liaison = await who(client, "l-power")
        assert (await client.post(f"/api/v1/orders/{oid}/notes", headers=liaison, json={"text": "x"})).status_code \
            == 403
        ghost = await client.post(f"/api/v1/orders/{oid}/notes", headers=w,
                                  json={"text": "照片", "photos": [str(uuid.uuid4())]})
        assert ghost.status_code == 422
        long = await client.post(f"/api/v1/orders/{oid}/notes", headers=w, json={"text": "长" * 2001})
        assert long.status_code == 422
        assert await count(engine, "SELECT count(*) FROM events WHERE order_id = :o AND kind = 'order.progress'",
                           o=oid) == 0
        up = await client.post("/api/v1/uploads", headers=w, files={"file": ("a.png", png(), "image/png")})
        assert up.status_code == 201
        arrived = await client.post(f"/api/v1/orders/{oid}/arrive", headers=w,
                                    json={"text": "已到", "photos": [up.json()["id"]]})
        assert arrived.status_code == 201 and arrived.json()["kind"] == "order.arrived"
        assert (await client.post(f"/api/v1/orders/{oid}/arrive", headers=w, json={})).status_code == 409


def _request(**kw: object) -> dict:
    body = {"category": "health", "description": "小区里有老人需要帮助", "lon": 118.7722, "lat": 32.0573,
            "phone": "13800001234"}
    body.update(kw)
    return body


async def test_resident_request_gives_a_tracking_link_and_shows_nothing_private(settings, redis, engine) -> None:
    async with app_client(no_wait(settings)) as client:
        before = await count(engine, "SELECT count(*) FROM incidents")
        up = await client.post("/api/v1/public/uploads", files={"file": ("p.png", png(), "image/png")})
        assert up.status_code == 201 and set(up.json()) == {"id", "size", "content_type"}
        key = {"Idempotency-Key": str(uuid.uuid4())}
        r = await client.post("/api/v1/public/requests", headers=key, json=_request(photos=[up.json()["id"]]))
        assert r.status_code == 201, r.text
        body = r.json()
        assert set(body) == {"public_id", "token", "status", "tracking_url", "replayed"}
        assert body["tracking_url"] == f"/r/t/{body['public_id']}#k={body['token']}"  # fragment: never sent
        again = await client.post("/api/v1/public/requests", headers=key, json=_request(photos=[up.json()["id"]]))
        assert again.status_code == 200 and again.json()["public_id"] == body["public_id"]
        assert await count(engine, "SELECT count(*) FROM incidents") == before + 1
        row = await count(engine, "SELECT count(*) FROM incidents WHERE public_id = :p AND channel = 'app' "
                                  "AND reporter_phone = '13800001234'", p=body["public_id"])
        assert row == 1
        assert await count(engine, "SELECT count(*) FROM events e JOIN incidents i ON i.id = e.incident_id "
                                   "WHERE i.public_id = :p AND e.kind = 'incident.photos'", p=body["public_id"]) == 1
        view = await client.get(f"/api/v1/track/{body['public_id']}", headers={"X-Tracking-Token": body["token"]})
        assert view.status_code == 200
        assert "13800001234" not in view.text and "description" not in view.json()
        assert (await client.get(f"/api/v1/track/{body['public_id']}",
                                 headers={"X-Tracking-Token": "x"})).status_code == 404
        page = await client.get(body["tracking_url"])
        assert page.status_code == 200 and body["public_id"] in page.text and body["token"] not in page.text


async def test_a_pin_in_gcj02_is_stored_in_wgs84(settings, redis, engine) -> None:
    async with app_client(no_wait(settings)) as client:
        glon, glat = from_wgs84(118.7722, 32.0573, "gcj02")
        r = await client.post("/api/v1/public/requests", json=_request(lon=glon, lat=glat, crs="gcj02"))
        assert r.status_code == 201
        async with engine.connect() as conn:
            lon, lat = (await conn.execute(text("SELECT lon, lat FROM incidents WHERE public_id = :p"),
                                           {"p": r.json()["public_id"]})).one()
        assert abs(lon - 118.7722) < 1e-7 and abs(lat - 32.0573) < 1e-7


@pytest.mark.parametrize(("change", "field"), [
    ({"category": "fire"}, "category"),  # emergencies are 110/119, not this form
    ({"category": "no_such"}, "category"),
    ({"photos": [str(uuid.uuid4())]}, "photos"),
    ({"photos": ["not-a-uuid"]}, "photos"),
    ({"lon": 181}, "lon"),
    ({"crs": "mars"}, "crs"),
    ({"phone": "call me maybe"}, "phone"),
    ({"description": "   "}, "description"),
    ({"token": "extra"}, "extra"),
])
async def test_bad_resident_requests_are_refused_and_change_nothing(settings, redis, engine, change, field) -> None:
    async with app_client(no_wait(settings)) as client:
        before = await count(engine, "SELECT count(*) FROM incidents")
        r = await client.post("/api/v1/public/requests", json=_request(**change))
        assert r.status_code == 422, (field, r.text)
        assert await count(engine, "SELECT count(*) FROM incidents") == before


async def test_resident_endpoints_are_rate_limited_per_address(redis, engine) -> None:
    settings = make_test_settings(resident_rate_per_min=3)
    async with app_client(no_wait(settings)) as client:
        before = await count(engine, "SELECT count(*) FROM incidents")
        codes = [(await client.post("/api/v1/public/requests", json=_request(description=f"第{i}件"))).status_code
                 for i in range(4)]
        assert codes == [201, 201, 201, 429]
        assert await count(engine, "SELECT count(*) FROM incidents") == before + 3
        uploads = [(await client.post("/api/v1/public/uploads", files={"file": ("p.png", png(), "image/png")}))
                   .status_code for _ in range(4)]
        assert uploads == [201, 201, 201, 429]


async def test_public_uploads_take_only_small_photos(redis, engine) -> None:
    settings = make_test_settings(max_upload_bytes=10_000)
    async with app_client(no_wait(settings)) as client:
        before = await count(engine, "SELECT count(*) FROM uploads")
        text_file = await client.post("/api/v1/public/uploads", files={"file": ("a.png", b"<script>", "image/png")})
        assert text_file.status_code == 422
        big = await client.post("/api/v1/public/uploads", files={"file": ("b.png", png(400, 400, (1, 2, 3)) +
                                                                           b"\0" * 20_000, "image/png")})
        assert big.status_code == 413
        assert await count(engine, "SELECT count(*) FROM uploads") == before


async def test_an_ad_hoc_patrol_finding_with_photos(settings, redis, engine) -> None:
    async with app_client(no_wait(settings)) as client:
        _, lon, lat = await worker_home(engine, "w0003")
        w = await who(client, "w0003")
        up = await client.post("/api/v1/uploads", headers=w, files={"file": ("a.png", png(), "image/png")})
        key = {"Idempotency-Key": str(uuid.uuid4())}
        body = {"category": "public_facilities", "description": "井盖破损", "lon": lon, "lat": lat,
                "photos": [up.json()["id"]]}
        first = await client.post("/api/v1/workers/me/findings", headers=w | key, json=body)
        assert first.status_code == 201, first.text
        assert first.json()["channel"] == "patrol"
        again = await client.post("/api/v1/workers/me/findings", headers=w | key, json=body)
        assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
        assert await count(engine, "SELECT count(*) FROM events WHERE incident_id = :i AND kind = 'incident.photos'",
                           i=first.json()["id"]) == 1
        op = await who(client, "operator")
        assert (await client.post("/api/v1/workers/me/findings", headers=op, json=body)).status_code == 403
        bad = await client.post("/api/v1/workers/me/findings", headers=w, json=body | {"photos": ["nope"]})
        assert bad.status_code == 422


async def test_liaison_department_card(settings, redis) -> None:
    async with app_client(no_wait(settings)) as client:
        r = await client.get("/api/v1/departments/mine", headers=await who(client, "l-urban_management-1"))
        assert r.status_code == 200 and r.json()["code"] == "urban_management-320102001" and r.json()["name"]
        assert (await client.get("/api/v1/departments/mine", headers=await who(client, "w0001"))).status_code == 403
        assert (await client.get("/api/v1/departments/mine")).status_code == 401


async def test_page_shells_manifest_and_service_worker(settings, redis) -> None:
    async with app_client(no_wait(settings)) as client:
        shells = (("/m", "网格员登录", "Grid worker sign-in"), ("/dept", "部门联络员工作台", "Department liaison"),
                  ("/r", "提交诉求", "Send request"), (f"/r/t/{uuid.uuid4()}", "诉求办理进度", "Request progress"))
        for path, zh, en in shells:
            r = await client.get(path, params={"lang": "zh-CN"})
            assert r.status_code == 200 and zh in r.text, path
            assert "default-src 'self'" in r.headers["content-security-policy"]
            assert en in (await client.get(path, params={"lang": "en"})).text
        manifest = (await client.get("/m/manifest.webmanifest")).json()
        assert manifest["scope"] == "/m" and {i["sizes"] for i in manifest["icons"]} >= {"192x192", "512x512"}
        sw = await client.get("/m/sw.js")
        assert sw.headers["service-worker-allowed"] == "/m" and "__VERSION__" not in sw.text
        assert '"/static/m/main.js"' in sw.text and "/api/" not in sw.text.split("const CACHE")[0]


async def test_old_keys_are_forgotten_recent_ones_kept(engine) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO request_keys (scope, key, request, created_at) VALUES "
                                "('u1', 'old', 'POST /x', now() - interval '8 days'), "
                                "('u1', 'new', 'POST /x', now() - interval '6 days')"))
    async with make_sessionmaker(engine)() as s, s.begin():
        assert await prune_keys(s, older_than=KEEP) == 1
    assert await count(engine, "SELECT count(*) FROM request_keys WHERE scope = 'u1' AND key IN ('old', 'new')") == 1
