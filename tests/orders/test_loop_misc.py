"""Duplicates, jurisdiction transfer, patrol tasks, photo uploads, the resident's tracking link and
ratings, deadline rules and supervision lists — with the bad input of each endpoint (clear 4xx, no change)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from pyproj import Geod
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from command.core.models import (
    Callback,
    DeadlineRule,
    Event,
    Incident,
    IncidentLink,
    Order,
    PatrolFinding,
    PatrolVisit,
    Upload,
)
from command.intake.duplicates import _FIND
from tests import loop_world as w
from tests.environment import make_test_settings

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
WEBP = b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 16
pytestmark = pytest.mark.timeout(120)


@pytest.fixture
async def app(clean_db: AsyncEngine, tmp_path):
    settings = make_test_settings(upload_dir=str(tmp_path / "up"), max_upload_bytes=2000, resident_rate_per_min=8,
                                  duplicate_distance_m=200, duplicate_window_s=600)
    async with w.loop_app(clean_db, settings) as app:
        yield app


async def _count(app, model, *where) -> int:
    async with app.sessionmaker() as s:
        return await s.scalar(select(func.count()).select_from(model).where(*where))


async def _get(app, model, key):
    async with app.sessionmaker() as s:
        return await s.get(model, key)


async def test_duplicates_sensor_merged_people_suggested(app) -> None:
    c, op = app.client, await app.as_("op1")
    lon, lat = w.POINTS["D1S1C1G1"]
    body = {"category": "water", "description": "水管爆裂", "lon": lon, "lat": lat, "channel": "app"}
    first = (await c.post("/api/v1/alerts", json=body, headers=op)).json()
    # A sensor flood 50 m away: merged at once, never dispatched.
    for i in range(3):
        r = await c.post("/api/v1/alerts", headers=op, json=body | {"channel": "sensor", "lat": lat + 0.00045,
                                                                  "description": f"水压报警 {i}"})
        assert r.status_code == 201, r.text
        assert r.json()["status"] == "merged" and r.json()["orders"] == []
    # A person's report: linked and suggested, still dispatched normally.
    r = await c.post("/api/v1/alerts", headers=op, json=body | {"description": "楼下漏水", "lon": lon + 0.001})
    person = r.json()
    assert person["status"] != "merged"
    # Far away, or another category: independent.
    far = (await c.post("/api/v1/alerts", headers=op, json=body | {"channel": "sensor", "lon": lon + 0.02})).json()
    other = (await c.post("/api/v1/alerts", headers=op, json=body | {"channel": "sensor", "category": "road"})).json()
    assert far["status"] != "merged" and other["status"] != "merged"
    async with app.sessionmaker() as s:
        rows = list(await s.scalars(select(IncidentLink)))
        merged = list(await s.scalars(select(Incident.merged_into_id).where(Incident.status == "merged")))
    links = {(lk.incident_id, lk.kind) for lk in rows}
    assert merged == [first["id"]] * 3
    assert (person["id"], "suggested") in links and len(links) == 4
    geod = Geod(ellps="WGS84")  # each link keeps the distance on the ground between the two reports
    expected = {"merged": geod.inv(lon, lat, lon, lat + 0.00045)[2],
                "suggested": geod.inv(lon, lat, lon + 0.001, lat)[2]}
    assert all(abs(lk.distance_m - expected[lk.kind]) < 0.5 for lk in rows), [(lk.kind, lk.distance_m) for lk in rows]

    # The operator dismisses the suggestion, or merges it; bad requests change nothing.
    r = await c.post(f"/api/v1/incidents/{person['id']}/merge", headers=op, json={"into_id": person["id"]})
    assert r.status_code == 422
    r = await c.post(f"/api/v1/incidents/{person['id']}/merge", headers=op, json={"into_id": 999999})
    assert r.status_code == 404
    assert (await c.post(f"/api/v1/incidents/{person['id']}/duplicates/{far['id']}/dismiss",
                         headers=op)).status_code == 404
    r = await c.post(f"/api/v1/incidents/{person['id']}/merge", headers=op, json={"into_id": first["id"]})
    assert r.status_code == 200 and r.json()["merged_into_id"] == first["id"], r.text
    async with app.sessionmaker() as s:
        live = await s.scalar(select(func.count()).select_from(Order).where(
            Order.incident_id == person["id"], Order.status.in_(["sent", "accepted", "signed_for"])))
    assert live == 0
    r = await c.post(f"/api/v1/incidents/{person['id']}/merge", headers=op, json={"into_id": first["id"]})
    assert r.status_code == 409  # merged is final


async def test_duplicate_radius_is_metres_on_the_ground(app) -> None:
    """The duplicate search narrows candidates with a box in degrees before measuring on the spheroid: a box too
    small (metres taken as degrees of latitude everywhere) would miss a duplicate 195 m due east, where a degree of
    longitude is shorter; 205 m away is beyond the configured 200 m either way."""
    c, op = app.client, await app.as_("op1")
    lon, lat = w.POINTS["D1S1C1G1"]
    geod = Geod(ellps="WGS84")
    body = {"category": "water", "description": "消防栓漏水", "lon": lon, "lat": lat, "channel": "sensor"}
    first = (await c.post("/api/v1/alerts", json=body, headers=op)).json()
    for metres, merged in ((195.0, True), (205.0, False)):  # a merged alert is never a candidate itself
        east, _, _ = geod.fwd(lon, lat, 90.0, metres)
        r = await c.post("/api/v1/alerts", headers=op, json=body | {"lon": east, "description": f"{metres} m"})
        assert r.status_code == 201, r.text
        assert (r.json()["status"] == "merged") is merged, (metres, r.json()["status"])
        if merged:
            async with app.sessionmaker() as s:
                assert (await s.get(Incident, r.json()["id"])).merged_into_id == first["id"]


async def test_duplicate_check_walks_the_gist_index_whatever_the_statistics(app) -> None:
    """The plan PostgreSQL caches for the duplicate check must use the incidents' GiST index even when made while
    the table was empty and never analyzed (a generic plan then preferred ix_incidents_created_at, which measured
    every incident of the last hour on the spheroid)."""
    types = {"category": "varchar", "statuses": "varchar[]", "since": "timestamptz", "at": "timestamptz",
             "exclude": "bigint", "lon": "float8", "lat": "float8", "radius_deg": "float8", "distance": "float8"}
    assert set(_FIND.names) == set(types)
    sql = _FIND.sql.replace("FROM incidents", "FROM fresh_incidents")
    async with app.sessionmaker() as s, s.begin():
        await s.execute(text("CREATE TEMP TABLE fresh_incidents (LIKE incidents INCLUDING ALL) ON COMMIT DROP"))
        await s.execute(text("SET LOCAL plan_cache_mode = force_generic_plan"))
        await s.execute(text(f"PREPARE dup ({', '.join(types[n] for n in _FIND.names)}) AS {sql}"))
        args = {"category": "'water'", "statuses": "'{dispatched}'", "since": "now() - interval '1 hour'",
                "at": "now()", "exclude": "NULL", "lon": "118.7", "lat": "32.0", "radius_deg": "0.002",
                "distance": "150"}
        plan = "\n".join((await s.execute(text(
            f"EXPLAIN EXECUTE dup ({', '.join(args[n] for n in _FIND.names)})"))).scalars())
        await s.execute(text("DEALLOCATE dup"))
    assert "Index Scan using fresh_incidents_geom_idx" in plan, plan


async def test_transfer_keeps_history_and_reaches_both_regions(app) -> None:
    c, op = app.client, await app.as_("op1")
    async with app.sessionmaker() as s, s.begin():
        inc = await w.incident(s, status="dispatched")
        offered = await w.order(s, inc, status="sent")
        busy = await w.incident(s, status="in_progress")
        await w.order(s, busy, status="signed_for")
    for body, status in (({"region_code": "D2S1C1G1", "reason": ""}, 422),
                         ({"region_code": "nowhere", "reason": "迁入地"}, 422),
                         ({"region_code": "D1S1C1G1", "reason": "同一区域"}, 422)):
        r = await c.post(f"/api/v1/incidents/{inc.id}/transfer", headers=op, json=body)
        assert r.status_code == status, r.text
    r = await c.post(f"/api/v1/incidents/{busy.id}/transfer", headers=op,
                     json={"region_code": "D2S1C1G1", "reason": "户籍在D2"})
    assert r.status_code == 409
    r = await c.post(f"/api/v1/incidents/{inc.id}/transfer", headers=await app.as_("op2"),
                     json={"region_code": "D2S1C1G1", "reason": "户籍在D2"})
    assert r.status_code == 403  # not theirs (yet)
    before = await _count(app, Event, Event.incident_id == inc.id)
    r = await c.post(f"/api/v1/incidents/{inc.id}/transfer", headers=op,
                     json={"region_code": "D2S1C1G1", "reason": "材料在迁入地办理"})
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["region_path"]) == ("located", w.region_path("D2S1C1G1"))
    assert (await _get(app, Order, offered.id)).status == "cancelled"
    async with app.sessionmaker() as s:
        events = list(await s.scalars(select(Event).where(Event.incident_id == inc.id).order_by(Event.id)))
    assert len(events) > before  # history kept, transfer appended
    moved = events[-1]
    assert moved.kind == "incident.transferred"
    assert {"D1S1C1G1", "D2S1C1G1"} <= set(moved.region_path)  # both centres see it
    assert moved.payload["transfer"]["from_region"] == "D1S1C1G1"
    # Now it belongs to D2: op2 acts on it, op1 no longer can.
    assert (await c.get(f"/api/v1/incidents/{inc.id}/deadlines", headers=await app.as_("op2"))).status_code == 200
    assert (await c.get(f"/api/v1/incidents/{inc.id}/deadlines", headers=op)).status_code == 403


async def test_patrol_tasks_visits_and_findings(app) -> None:
    c, op, worker = app.client, await app.as_("op1"), await app.as_("w1")
    monday = date(2026, 6, 1)
    for body, status in (({"grid_code": "nowhere", "title": "巡查", "visit_weekday": 1}, 422),
                         ({"grid_code": "D1S1", "title": "巡查", "visit_weekday": 1}, 422),  # a street, not a grid
                         ({"grid_code": "D1S1C1G1", "title": "巡查", "visit_weekday": 7}, 422),
                         ({"grid_code": "D2S1C1G1", "title": "巡查", "visit_weekday": 1}, 403)):
        r = await c.post("/api/v1/patrol/tasks", headers=op, json=body)
        assert r.status_code == status, r.text
    r = await c.post("/api/v1/patrol/tasks", headers=op,
                     json={"grid_code": "D1S1C1G1", "title": "每周走访", "visit_weekday": 1, "callback_weekday": 4})
    assert r.status_code == 201, r.text
    assert (await c.post("/api/v1/patrol/tasks", headers=worker, json={})).status_code == 403
    r = await c.post("/api/v1/patrol/plan", headers=op, json={"start": monday.isoformat(), "days": 14})
    assert r.json() == {"created": 4}  # two Tuesdays, two Fridays
    r = await c.post("/api/v1/patrol/plan", headers=op, json={"start": monday.isoformat(), "days": 14})
    assert r.json() == {"created": 0}  # idempotent
    r = await c.get("/api/v1/patrol/visits", headers=worker, params={"from": monday.isoformat(), "days": 14})
    visits = r.json()["visits"]
    assert [(v["kind"], v["due_date"]) for v in visits] == [
        ("visit", "2026-06-02"), ("callback", "2026-06-05"), ("visit", "2026-06-09"), ("callback", "2026-06-12")]
    vid = visits[0]["id"]
    r = await c.post(f"/api/v1/patrol/visits/{vid}/done", headers=worker, json={"notes": "走访12户"})
    assert r.status_code == 200 and r.json()["status"] == "done"
    assert (await c.post(f"/api/v1/patrol/visits/{vid}/done", headers=worker, json={})).status_code == 409
    photo = (await c.post("/api/v1/uploads", headers=worker, files={"file": ("p.jpg", JPEG, "image/jpeg")})).json()
    lon, lat = w.POINTS["D1S1C1G1"]
    finding = {"category": "road", "description": "井盖缺失", "lon": lon, "lat": lat, "photos": [photo["id"]]}
    for bad, status in ((finding | {"category": "nope"}, 422), (finding | {"lon": 999}, 422),
                        (finding | {"photos": ["x"]}, 422)):
        r = await c.post(f"/api/v1/patrol/visits/{vid}/findings", headers=worker, json=bad)
        assert r.status_code == status, r.text
    assert (await c.post("/api/v1/patrol/visits/999999/findings", headers=worker, json=finding)).status_code == 404
    r = await c.post(f"/api/v1/patrol/visits/{vid}/findings", headers=worker, json=finding)
    assert r.status_code == 201, r.text
    incident = r.json()["incident"]
    assert incident["channel"] == "patrol"
    link = await _get(app, PatrolFinding, incident["id"])
    assert link.visit_id == vid
    assert await _count(app, Incident) == 1
    async with app.sessionmaker() as s:
        due = await s.scalar(select(Incident.resolve_due_at).where(Incident.id == incident["id"]))
        created = await s.scalar(select(Incident.created_at).where(Incident.id == incident["id"]))
        assert due - created == timedelta(hours=24)  # a patrol finding: 24 h
        assert (await s.get(PatrolVisit, vid)).done_by == app.world.worker_id


async def test_uploads_checked_by_size_and_magic_bytes(app) -> None:
    c, h = app.client, await app.as_("water")
    for data, ctype in ((PNG, "image/png"), (JPEG, "image/jpeg"), (WEBP, "image/webp")):
        r = await c.post("/api/v1/uploads", headers=h, files={"file": ("x", data, "application/octet-stream")})
        assert r.status_code == 201 and r.json()["content_type"] == ctype, r.text
    before = await _count(app, Upload)
    for data, status in ((b"GIF89a" + b"\x00" * 20, 422), (b"<html>" * 3, 422), (b"", 422),
                         (PNG + b"\x00" * 3000, 413)):
        r = await c.post("/api/v1/uploads", headers=h, files={"file": ("x.png", data, "image/png")})
        assert r.status_code == status, r.text
    assert (await c.post("/api/v1/uploads", headers=h, data={"nofile": "1"})).status_code == 422
    assert (await c.post("/api/v1/uploads", files={"file": ("x.png", PNG, "image/png")})).status_code == 401
    assert await _count(app, Upload) == before
    assert (await c.get("/api/v1/uploads/not-a-uuid", headers=h)).status_code == 404


async def test_tracking_link_rating_and_rate_limit(app) -> None:
    c, op = app.client, await app.as_("op1")
    async with app.sessionmaker() as s, s.begin():
        inc = await w.incident(s, status="located", reporter_name="张三", reporter_phone="13912345678",
                               description="我家楼下的下水道堵了")
    link = (await c.get(f"/api/v1/incidents/{inc.id}/tracking-link", headers=op)).json()
    url = f"/api/v1/track/{link['public_id']}"
    assert link["url"] == f"/r/t/{link['public_id']}#k={link['token']}"  # the page; the token in the fragment
    r = await c.get(url, headers={"X-Tracking-Token": link["token"]})
    assert r.status_code == 200, r.text
    view = r.json()
    text = r.text
    assert view["status"] == "located" and view["can_rate"] is False
    assert "张三" not in text and "13912345678" not in text and "下水道" not in text
    assert set(view) == {"public_id", "category", "status", "created_at", "resolved_at", "timeline", "rating",
                         "can_rate"}
    assert (await c.get(url, headers={"X-Tracking-Token": "wrong"})).status_code == 404
    assert (await c.get("/api/v1/track/not-a-uuid", headers={"X-Tracking-Token": link["token"]})).status_code == 404
    rating = {"token": link["token"], "rating": "satisfied"}
    assert (await c.post(f"{url}/rating", json=rating)).status_code == 409  # not resolved yet
    async with app.sessionmaker() as s, s.begin():
        row = await s.get(Incident, inc.id)
        row.status, row.resolved_at = "verified", datetime.now(UTC)
    assert (await c.post(f"{url}/rating", json=rating | {"rating": "great"})).status_code == 422
    assert (await c.post(f"{url}/rating", json=rating | {"token": "bad"})).status_code == 404
    r = await c.post(f"{url}/rating", json=rating | {"rating": "dissatisfied", "comment": "还是堵"})
    assert r.status_code == 201 and r.json()["reopened"] is True, r.text
    row = await _get(app, Incident, inc.id)
    assert row.status == "reopened" and row.resolved_at is None
    assert await _count(app, Event, Event.kind == "incident.reopened") == 1
    # The 8th request within the minute from this address is refused.
    statuses = [(await c.get(url, headers={"X-Tracking-Token": link["token"]})).status_code for _ in range(4)]
    assert statuses[-1] == 429 and "error" in (await c.get(url, headers={"X-Tracking-Token": link["token"]})).json()
    assert await _count(app, Callback) == 1


async def test_deadline_rules_and_supervision_lists(app) -> None:
    c, sup = app.client, await app.as_("sup1")
    url = "/api/v1/supervision/deadline-rules"
    for body, status in (({"kind": "resolve"}, 422),                                          # no limit
                         ({"kind": "resolve", "limit_s": 60, "same_day": True}, 422),        # both
                         ({"kind": "resolve", "limit_s": -5}, 422),
                         ({"kind": "sleep", "limit_s": 60}, 422),
                         ({"kind": "resolve", "limit_s": 60, "category_code": "nope"}, 422),
                         ({"kind": "resolve", "limit_s": 60, "region_code": "nowhere"}, 422)):
        r = await c.post(url, headers=sup, json=body)
        assert r.status_code == status, (body, r.text)
    assert (await c.post(url, headers=await app.as_("op1"), json={"kind": "resolve", "limit_s": 60})).status_code == 403
    assert await _count(app, DeadlineRule) == 0
    r = await c.post(url, headers=sup, json={"kind": "resolve", "limit_s": 7200, "region_code": "D1S1"})
    assert r.status_code == 201
    assert [x["limit_s"] for x in (await c.get(url, headers=sup)).json()["rules"]] == [7200]
    assert (await c.delete(f"{url}/{r.json()['id']}", headers=sup)).status_code == 204
    assert (await c.delete(f"{url}/{r.json()['id']}", headers=sup)).status_code == 404
    r = await c.get("/api/v1/supervision/extensions", headers=sup, params={"status": "maybe"})
    assert r.status_code == 422
    assert (await c.get("/api/v1/supervision/overdue", headers=sup)).json() == {"overdue": []}
    assert (await c.get("/api/v1/supervision/overdue", headers=await app.as_("water"))).status_code == 403
    r = await c.get("/api/v1/dept/orders", headers=await app.as_("water"))
    assert r.status_code == 200 and r.json() == {"orders": []}
    assert (await c.get("/api/v1/dept/orders", headers=sup)).status_code == 422  # which department?
    assert (await c.get("/api/v1/dept/orders", headers=sup, params={"status": "lost"})).status_code == 422
