"""The scoping holes of issue 13 (item 5): nothing outside a caller's scope leaks through a replay, a conflict, an
upload or a tile, and one caller's keys never reach another's. Each test here failed on the main of that day.

World (tests.loop_world): op1 operates district D1, op2 district D2; w1 is a grid worker of D1; water and power
are department liaisons."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from command.core.models import Event, Incident, RequestKey, Upload
from tests import loop_world as w
from tests.environment import make_test_settings

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
pytestmark = pytest.mark.timeout(120)


@pytest.fixture
async def app(clean_db: AsyncEngine, redis, tmp_path):
    settings = make_test_settings(upload_dir=str(tmp_path / "up"), resident_rate_per_min=1000)
    async with w.loop_app(clean_db, settings) as app:
        yield app


async def _count(app, model, *where) -> int:
    async with app.sessionmaker() as s:
        return await s.scalar(select(func.count()).select_from(model).where(*where))


def _alert(grid: str, **kw: object) -> dict:
    lon, lat = w.POINTS[grid]
    return {"category": "water", "description": "水管爆裂", "lon": lon, "lat": lat, "channel": "hotline"} | kw


# --- an alert's external_id / Idempotency-Key --------------------------------------------------------------------

async def test_another_callers_external_id_neither_replays_nor_names_their_incident(app) -> None:
    c, op1, op2 = app.client, await app.as_("op1"), await app.as_("op2")
    theirs = await c.post("/api/v1/alerts", headers=op2, json=_alert("D2S1C1G1", external_id="T-1"))
    assert theirs.status_code == 201
    their_id, their_public = theirs.json()["id"], theirs.json()["public_id"]

    # The same external_id and the same words from another district's operator: their own new report, not op2's
    # incident replayed (which answered 200 with its summary, orders and region chain).
    mine = await c.post("/api/v1/alerts", headers=op1, json=_alert("D1S1C1G1", external_id="T-1"))
    assert mine.status_code == 201, mine.text
    assert mine.json()["id"] != their_id and mine.json()["region_chain"][0]["code"] == "D1"
    # Other words: not a 409 naming op2's incident either.
    other = await c.post("/api/v1/alerts", headers=op1, json=_alert("D1S1C1G1", external_id="T-1",
                                                                     channel="sensor", description="别的"))
    assert other.status_code == 201
    assert their_public not in other.text and other.json()["id"] != their_id

    # op1's own id with other words: a conflict that names nothing.
    again = await c.post("/api/v1/alerts", headers=op1, json=_alert("D1S1C1G1", external_id="T-1",
                                                                     description="另一件事"))
    assert again.status_code == 409
    err = again.json()["error"]
    assert err["code"] == "conflict" and err["details"] == {"field": "external_id"}
    assert mine.json()["public_id"] not in again.text and "incident" not in (err.get("details") or {})
    # Retries of their own report still replay, for both.
    assert (await c.post("/api/v1/alerts", headers=op1, json=_alert("D1S1C1G1", external_id="T-1"))).json()["id"] \
        == mine.json()["id"]
    assert (await c.post("/api/v1/alerts", headers=op2, json=_alert("D2S1C1G1", external_id="T-1"))).json()["id"] \
        == their_id


async def test_a_replay_outside_the_callers_region_is_not_answered_with_the_incident(app) -> None:
    c, op1 = app.client, await app.as_("op1")
    # op1 (D1) files a call about a place in D2: stored and dispatched there, in D2's scope.
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = await c.post("/api/v1/alerts", headers=op1 | key, json=_alert("D2S1C1G1"))
    assert first.status_code == 201
    retry = await c.post("/api/v1/alerts", headers=op1 | key, json=_alert("D2S1C1G1"))
    assert retry.status_code == 409 and first.json()["public_id"] not in retry.text
    assert await _count(app, Incident) == 1


async def test_idempotency_keys_are_per_caller(app) -> None:
    c, op1, op2 = app.client, await app.as_("op1"), await app.as_("op2")
    key = {"Idempotency-Key": "shared-key-1"}
    theirs = await c.post("/api/v1/alerts", headers=op2 | key, json=_alert("D2S1C1G1", channel="app"))
    mine = await c.post("/api/v1/alerts", headers=op1 | key, json=_alert("D1S1C1G1", channel="app"))
    assert (theirs.status_code, mine.status_code) == (201, 201) and mine.json()["id"] != theirs.json()["id"]


# --- residents ----------------------------------------------------------------------------------------------------

def _request(**kw: object) -> dict:
    lon, lat = w.POINTS["D1S1C1G1"]
    return {"category": "road", "description": "路灯坏了", "lon": lon, "lat": lat, "phone": "13800001234"} | kw


async def test_residents_do_not_share_idempotency_keys(app) -> None:
    c = app.client
    key = {"Idempotency-Key": "resident-key-0001"}
    first = await c.post("/api/v1/public/requests", headers=key, json=_request())
    assert first.status_code == 201
    token = first.json()["token"]
    # Another resident happens on (or guesses) the key: same words, their own place and phone.
    lon, lat = w.POINTS["D1S2C1G1"]
    other = await c.post("/api/v1/public/requests", headers=key, json=_request(lon=lon, lat=lat, phone="13900009999"))
    assert other.status_code == 201, other.text
    assert other.json()["token"] != token and token not in other.text
    assert other.json()["public_id"] != first.json()["public_id"]
    # Other words: their own request too, not a conflict naming the first.
    words = await c.post("/api/v1/public/requests", headers=key, json=_request(description="井盖丢了"))
    assert words.status_code == 201 and first.json()["public_id"] not in words.text
    # The first resident's own retry still finds their link.
    again = await c.post("/api/v1/public/requests", headers=key, json=_request())
    assert again.status_code == 200 and again.json()["token"] == token
    assert await _count(app, Incident) == 3


# --- uploads ------------------------------------------------------------------------------------------------------

async def _upload(app, user: str | None) -> str:
    if user is None:
        r = await app.client.post("/api/v1/public/uploads", files={"file": ("p.png", PNG, "image/png")})
    else:
        r = await app.client.post("/api/v1/uploads", headers=await app.as_(user),
                                  files={"file": ("p.png", PNG, "image/png")})
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def _worker_order(app, grid: str = "D1S1C1G1") -> tuple[int, int]:
    async with app.sessionmaker() as s, s.begin():
        inc = await w.incident(s, grid=grid, status="dispatched")
        order = await w.order(s, inc, worker_id=app.world.worker_id, status="accepted")
        return inc.id, order.id


async def _department_order(app, department: str = "water_co") -> int:
    async with app.sessionmaker() as s, s.begin():
        inc = await w.incident(s, grid="D1S1C1G1", status="dispatched")
        return (await w.order(s, inc, department=department, status="accepted")).id


async def test_an_upload_is_read_by_its_uploader_and_the_viewers_of_its_incident_only(app) -> None:
    c = app.client
    photo = await _upload(app, "w1")
    url = f"/api/v1/uploads/{photo}"
    assert (await c.get(url, headers=await app.as_("w1"))).status_code == 200
    # Not attached yet: nobody else, however senior (it "does not exist" for them).
    for user in ("op1", "op2", "water", "admin"):
        r = await c.get(url, headers=await app.as_(user))
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", user
    incident_id, order_id = await _worker_order(app)
    note = await c.post(f"/api/v1/orders/{order_id}/notes", headers=await app.as_("w1"),
                        json={"text": "现场照片", "photos": [photo]})
    assert note.status_code == 201
    assert (await _get_upload(app, photo)).incident_id == incident_id
    # Attached to a D1 incident: D1's operator and the admin see it; D2's operator and another department do not.
    for user, status in (("op1", 200), ("admin", 200), ("op2", 404), ("power", 404), ("w1", 200)):
        assert (await c.get(url, headers=await app.as_(user))).status_code == status, user


async def _get_upload(app, upload_id: str) -> Upload:
    async with app.sessionmaker() as s:
        return await s.get(Upload, uuid.UUID(upload_id))


async def test_nobody_attaches_an_upload_they_did_not_upload(app) -> None:
    c, water = app.client, await app.as_("water")
    theirs = await _upload(app, "w1")
    residents = await _upload(app, None)
    order_id = await _department_order(app)
    before = await _count(app, Event)
    for photo in (theirs, residents):
        r = await c.post(f"/api/v1/dept/orders/{order_id}/notes", headers=water,
                         json={"text": "进展", "photos": [photo]})
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_input", r.text
    # A resident's request cannot take a worker's upload either.
    r = await c.post("/api/v1/public/requests", json=_request(photos=[theirs]))
    assert r.status_code == 422
    assert await _count(app, Event) == before and await _count(app, Incident) == 1  # the order's own
    assert (await _get_upload(app, theirs)).incident_id is None

    # Their own upload, attached once: not again to another incident.
    mine = await _upload(app, "water")
    ok = await c.post(f"/api/v1/dept/orders/{order_id}/notes", headers=water, json={"text": "进展", "photos": [mine]})
    assert ok.status_code == 201
    elsewhere = await _department_order(app)
    r = await c.post(f"/api/v1/dept/orders/{elsewhere}/notes", headers=water, json={"text": "进展", "photos": [mine]})
    assert r.status_code == 422


# --- resources: tiles and the wall's GeoJSON, one rule ---------------------------------------------------------

async def test_resource_tiles_follow_the_rule_of_the_resources_list(app) -> None:
    c = app.client
    async with app.sessionmaker() as s, s.begin():
        for name, (lon, lat) in (("D1 hydrant", w.POINTS["D1S1C1G1"]), ("D2 hydrant", w.POINTS["D2S1C1G1"])):
            await s.execute(text("INSERT INTO resource_points (kind, name, region_code, geom) VALUES "
                                 "('hydrant', :n, 'x', ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))"),
                            {"n": name, "lon": lon, "lat": lat})

    def tile(lon: float, lat: float) -> str:
        import math
        n = 2 ** 14
        x = int((lon + 180) / 360 * n)
        y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
        return f"/tiles/resources/14/{x}/{y}.pbf"

    d1, d2 = tile(*w.POINTS["D1S1C1G1"]), tile(*w.POINTS["D2S1C1G1"])
    worker, liaison, op1 = await app.as_("w1"), await app.as_("water"), await app.as_("op1")
    for who in (worker, liaison):  # refused by /screen/resources, so by the tiles too
        assert (await c.get("/api/v1/screen/resources", headers=who)).status_code == 403
        r = await c.get(d1, headers=who)
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    names = {f["properties"]["name"] for f in (await c.get("/api/v1/screen/resources", headers=op1)).json()["features"]}
    assert names == {"D1 hydrant"}
    assert (await c.get(d1, headers=op1)).status_code == 200
    assert (await c.get(d2, headers=op1)).status_code == 204  # D2's hydrant is outside op1's district
    assert (await c.get(d2, headers=await app.as_("op2"))).status_code == 200


# --- an action's Idempotency-Key with another body ----------------------------------------------------------------

async def test_an_action_key_reused_with_another_body_is_a_conflict(app) -> None:
    c, worker = app.client, await app.as_("w1")
    _, order_id = await _worker_order(app)
    key = {"Idempotency-Key": "note-0001"}
    first = await c.post(f"/api/v1/orders/{order_id}/notes", headers=worker | key, json={"text": "第一条"})
    assert first.status_code == 201
    same = await c.post(f"/api/v1/orders/{order_id}/notes", headers=worker | key, json={"text": "第一条"})
    assert same.status_code == 200 and same.json()["replayed"] is True
    # The same body spelled differently (spacing) is the same action.
    json_type = {"content-type": "application/json"}
    spaced = await c.post(f"/api/v1/orders/{order_id}/notes", headers=worker | key | json_type,
                          content=b'{ "text" :  "\\u7b2c\\u4e00\\u6761" }')
    assert spaced.status_code == 200
    other = await c.post(f"/api/v1/orders/{order_id}/notes", headers=worker | key, json={"text": "第二条"})
    assert other.status_code == 409, other.text
    assert other.json()["error"]["code"] == "conflict"
    async with app.sessionmaker() as s:
        notes = list(await s.scalars(select(Event.reason).where(Event.order_id == order_id,
                                                                Event.kind == "order.progress")))
        assert notes == ["第一条"]  # the second body was neither applied nor silently dropped as a "replay"
        assert await s.scalar(select(func.count()).select_from(RequestKey)) == 1
