"""CAP 1.2 intake with outside messages: the samples of the WMO capvalidator repository (/work/shared/interop) are
accepted and located, its invalid ones refused with the validator's message and nothing stored; a Chinese message
(zh-CN and en) whose polygon spans three grids lists all three and their workers; Update and Cancel act on the
referenced incident; Exercise/Test never make an incident; the admin's category table (API)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text

from command.cli.registry import COMMANDS, build_parser
from command.core.db import make_sessionmaker
from geo.imports import import_regions
from tests.dispatch_fixtures import add_user, at
from tests.dispatch_world import dispatch_client

SAMPLES = Path("/work/shared/interop/cap-samples")
XML = {"content-type": "application/cap+xml"}
pytestmark = pytest.mark.skipif(not SAMPLES.is_dir(), reason="outside CAP samples not on this machine")


def _feature(code: str, level: str, parent: str | None, x0: float, y0: float, x1: float, y1: float) -> dict:
    ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
    return {"type": "Feature", "properties": {"code": code, "name": code, "level": level, "parent_code": parent},
            "geometry": {"type": "Polygon", "coordinates": [ring]}}


def _aldabra() -> dict:
    """A district over the Seychelles sample's area (Aldabra), three grids side by side."""
    x0, y0, x1, y1 = 45.9, -10.05, 46.8, -9.1
    third = (x1 - x0) / 3
    return {"type": "FeatureCollection", "features": [
        _feature("SCD", "district", None, x0, y0, x1, y1), _feature("SCS", "street", "SCD", x0, y0, x1, y1),
        _feature("SCC", "community", "SCS", x0, y0, x1, y1),
        *(_feature(f"SCG{i + 1}", "grid", "SCC", x0 + i * third, y0, x0 + (i + 1) * third, y1) for i in range(3))]}


def _ga2() -> dict:
    """A third grid in the dispatch world, between GA1 and GB1."""
    (ax, ay), (bx, by) = at(1, 0), at(2, 1)
    return {"type": "FeatureCollection", "features": [_feature("GA2", "grid", "CA1", ax, ay, bx, by)]}


async def _count(engine, sql: str) -> int:
    async with engine.connect() as conn:
        return (await conn.execute(text(sql))).scalar_one()


@pytest.fixture
async def cap_world(world, clean_db, dsettings):
    async with make_sessionmaker(clean_db)() as s, s.begin():
        await import_regions(s, collection=_aldabra())
        await import_regions(s, collection=_ga2())
        admin = await add_user(s, dsettings, username="admin", role="admin")
    return world, admin


async def _map(client, admin, kind: str, value: str, category: str = "noise") -> None:
    r = await client.put(f"/api/v1/admin/cap-categories/{kind}/{value}", headers=admin.headers,
                         json={"category_code": category})
    assert r.status_code == 200, r.text


async def test_the_validators_valid_samples_are_accepted_and_located(cap_world, dsettings, clean_db) -> None:
    world, admin = cap_world
    async with dispatch_client(dsettings) as client:
        await _map(client, admin, "category", "Met")
        sc = await client.post("/api/v1/cap", headers=world.op.headers | XML,
                               content=(SAMPLES / "sc-valid.xml").read_bytes())
        assert sc.status_code == 201, sc.text
        body = sc.json()
        assert body["action"] == "alerted" and body["signed"] is True and body["language"] == "en"
        assert body["grids"] == ["SCG1", "SCG2", "SCG3"]
        assert 45.9 < body["lon"] < 46.8 and -10.05 < body["lat"] < -9.1
        (iid,) = body["incident_ids"]
        async with clean_db.connect() as conn:
            row = (await conn.execute(text(
                "SELECT region_path, channel, area_grids, ST_Contains(area, geom), ST_NPoints(area) "
                "FROM incidents WHERE id = :i"), {"i": iid})).one()
        assert "SCD" in row[0] and row[1] == "cap" and row[2] == ["SCG1", "SCG2", "SCG3"] and row[3]
        assert row[4] >= 14
        # The unsigned copy carries the same sender and identifier: CAP's key, so it is the same message.
        again = await client.post("/api/v1/cap", headers=world.op.headers | XML,
                                  content=(SAMPLES / "sc-no_signature.xml").read_bytes())
        assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
        assert again.json()["incident_ids"] == [iid]
        # Burkina Faso: a 41,000-vertex polygon, outside every region of this city (located, needs attention).
        bf = await client.post("/api/v1/cap", headers=world.op.headers | XML,
                               content=(SAMPLES / "bf-no_signature.xml").read_bytes())
        assert bf.status_code == 201, bf.text
        assert bf.json()["language"] == "fr" and bf.json()["grids"] == []
        assert -5.6 < bf.json()["lon"] < 2.5 and 9.3 < bf.json()["lat"] < 15.1
        assert await _count(clean_db, "SELECT count(*) FROM incidents WHERE area IS NOT NULL") == 2
        assert await _count(clean_db, "SELECT count(*) FROM cap_messages") == 2


@pytest.mark.parametrize("name", ["sc-invalid_schema.xml", "bf-invalid_schema.xml"])
async def test_invalid_samples_are_refused_with_the_validators_message(cap_world, dsettings, clean_db, name) -> None:
    world, admin = cap_world
    async with dispatch_client(dsettings) as client:
        await _map(client, admin, "category", "Met")
        r = await client.post("/api/v1/cap", headers=world.op.headers | XML, content=(SAMPLES / name).read_bytes())
        assert r.status_code == 422
        error = r.json()["error"]
        assert error["message"] == "CAP alert does not follow the CAP v1.2 schema."
        assert "line" in error["details"][0]["reason"]
    assert await _count(clean_db, "SELECT count(*) FROM cap_messages") == 0
    assert await _count(clean_db, "SELECT count(*) FROM incidents") == 0


def _chinese(identifier: str, *, polygon: str, msg_type: str = "Alert", status: str = "Actual",
             refs: str = "") -> bytes:
    references = f"<references>{refs}</references>" if refs else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>{identifier}</identifier>
  <sender>qxj@example.gov.cn</sender>
  <sent>2026-12-07T08:00:00+08:00</sent>
  <status>{status}</status>
  <msgType>{msg_type}</msgType>
  <scope>Public</scope>
  {references}
  <info>
    <language>en-US</language>
    <category>Met</category>
    <event>Rainstorm</event>
    <urgency>Immediate</urgency>
    <severity>Severe</severity>
    <certainty>Likely</certainty>
    <headline>Rainstorm orange warning</headline>
    <area><areaDesc>Demo district</areaDesc><polygon>{polygon}</polygon></area>
  </info>
  <info>
    <language>zh-CN</language>
    <category>Met</category>
    <event>暴雨</event>
    <urgency>Immediate</urgency>
    <severity>Severe</severity>
    <certainty>Likely</certainty>
    <senderName>示例市气象台</senderName>
    <headline>暴雨橙色预警</headline>
    <description>预计未来3小时内降雨量将达50毫米以上。</description>
    <instruction>请网格员通知低洼地带居民转移。</instruction>
    <area><areaDesc>示范街道</areaDesc><polygon>{polygon}</polygon></area>
  </info>
</alert>""".encode()


def _polygon(x0: float, y0: float, x1: float, y1: float) -> str:
    pts = [at(x0, y0), at(x1, y0), at(x1, y1), at(x0, y1), at(x0, y0)]
    return " ".join(f"{lat:.6f},{lon:.6f}" for lon, lat in pts)


async def test_chinese_alert_over_three_grids_then_update_and_cancel(cap_world, dsettings, clean_db) -> None:
    world, admin = cap_world
    async with dispatch_client(dsettings) as client:
        await _map(client, admin, "event", "暴雨", category="fire")
        r = await client.post("/api/v1/cap", headers=world.op.headers | XML,
                              content=_chinese("cn-1", polygon=_polygon(0.5, 0.2, 2.5, 0.8)))
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["language"] == "zh-CN" and body["grids"] == ["GA1", "GA2", "GB1"]
        assert body["grid_workers"]["GA1"] == [world.grid.worker_id]
        (iid,) = body["incident_ids"]
        async with clean_db.connect() as conn:
            desc, prio, cat = (await conn.execute(text(
                "SELECT description, priority, category_code FROM incidents WHERE id = :i"), {"i": iid})).one()
            infos = (await conn.execute(text("SELECT infos FROM cap_messages"))).scalar_one()
        assert desc.startswith("暴雨橙色预警") and "示范街道" in desc and prio == 2 and cat == "fire"
        assert [(i["language"], i["shown"]) for i in infos] == [("en-US", False), ("zh-CN", True)]
        # Update: the warning narrows to GB1.
        up = await client.post("/api/v1/cap", headers=world.op.headers | XML, content=_chinese(
            "cn-2", msg_type="Update", polygon=_polygon(2.2, 0.2, 2.8, 0.8),
            refs="qxj@example.gov.cn,cn-1,2026-12-07T08:00:00+08:00"))
        assert up.status_code == 201, up.text
        assert up.json()["action"] == "updated" and up.json()["incident_ids"] == [iid]
        assert up.json()["grids"] == ["GB1"]
        async with clean_db.connect() as conn:
            grids = (await conn.execute(text("SELECT area_grids FROM incidents WHERE id = :i"), {"i": iid})).scalar()
        assert grids == ["GB1"]
        # Cancel: the incident and its orders are cancelled.
        cancel = await client.post("/api/v1/cap", headers=world.op.headers | XML, content=_chinese(
            "cn-3", msg_type="Cancel", polygon=_polygon(2.2, 0.2, 2.8, 0.8),
            refs="qxj@example.gov.cn,cn-2,2026-12-07T08:05:00+08:00 qxj@example.gov.cn,cn-1,2026-12-07T08:00:00+08:00"))
        assert cancel.status_code == 201, cancel.text
        assert cancel.json()["action"] == "cancelled"
        async with clean_db.connect() as conn:
            status = (await conn.execute(text("SELECT status FROM incidents WHERE id = :i"), {"i": iid})).scalar()
            open_orders = (await conn.execute(text(
                "SELECT count(*) FROM orders WHERE incident_id = :i AND status NOT IN "
                "('cancelled', 'declined', 'timed_out', 'returned', 'done')"), {"i": iid})).scalar()
        assert status == "cancelled" and open_orders == 0


@pytest.mark.parametrize("status", ["Exercise", "Test"])
async def test_exercise_and_test_never_alarm(cap_world, dsettings, clean_db, status) -> None:
    world, admin = cap_world
    async with dispatch_client(dsettings) as client:
        await _map(client, admin, "event", "暴雨")
        r = await client.post("/api/v1/cap", headers=world.op.headers | XML,
                              content=_chinese("ex-1", status=status, polygon=_polygon(0.5, 0.2, 2.5, 0.8)))
        assert r.status_code == 201, r.text
        assert r.json()["action"] == "recorded" and r.json()["incident_ids"] == []
        assert r.json()["grids"] == ["GA1", "GA2", "GB1"]
    assert await _count(clean_db, "SELECT count(*) FROM incidents") == 0
    assert await _count(clean_db, "SELECT count(*) FROM events") == 0


async def test_refusals_change_nothing(cap_world, dsettings, clean_db) -> None:
    world, admin = cap_world
    good = _chinese("bad-1", polygon=_polygon(0.5, 0.2, 2.5, 0.8))
    async with dispatch_client(dsettings) as client:
        # No category mapped for 暴雨 / Met yet.
        unmapped = await client.post("/api/v1/cap", headers=world.op.headers | XML, content=good)
        assert unmapped.status_code == 422 and "admin maps one" in unmapped.json()["error"]["message"]
        wrong_type = await client.post("/api/v1/cap", headers=world.op.headers | {"content-type": "text/plain"},
                                       content=good)
        assert wrong_type.status_code == 415
        doctype = await client.post("/api/v1/cap", headers=world.op.headers | XML,
                                    content=b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]>' + good[38:])
        assert doctype.status_code == 422
        not_xml = await client.post("/api/v1/cap", headers=world.op.headers | XML, content=b"<alert")
        assert not_xml.status_code == 422
        dangling = await client.post("/api/v1/cap", headers=world.op.headers | XML, content=_chinese(
            "bad-2", msg_type="Update", polygon=_polygon(0.5, 0.2, 2.5, 0.8),
            refs="qxj@example.gov.cn,never,2026-12-07T08:00:00+08:00"))
        assert dangling.status_code == 422 and "never taken in" in dangling.json()["error"]["message"]
        worker = await client.post("/api/v1/cap", headers=world.near.headers | XML, content=good)
        assert worker.status_code == 403
        posed = await client.post("/api/v1/alerts", headers=world.op.headers, json={
            "category": "noise", "description": "假冒预警", "lon": at(0.5, 0.5)[0], "lat": at(0.5, 0.5)[1],
            "channel": "cap"})
        assert posed.status_code == 422
        bad_map = await client.put("/api/v1/admin/cap-categories/category/Weather", headers=admin.headers,
                                   json={"category_code": "noise"})
        assert bad_map.status_code == 422
        unknown_cat = await client.put("/api/v1/admin/cap-categories/event/x", headers=admin.headers,
                                       json={"category_code": "nope"})
        assert unknown_cat.status_code == 422
        not_admin = await client.put("/api/v1/admin/cap-categories/event/x", headers=world.op.headers,
                                     json={"category_code": "noise"})
        assert not_admin.status_code == 403
    assert await _count(clean_db, "SELECT count(*) FROM cap_messages") == 0
    assert await _count(clean_db, "SELECT count(*) FROM incidents") == 0
    assert await _count(clean_db, "SELECT count(*) FROM cap_category_map") == 0


async def test_category_table_api(cap_world, dsettings) -> None:
    _, admin = cap_world
    async with dispatch_client(dsettings) as client:
        put = await client.put("/api/v1/admin/cap-categories/event/台风", headers=admin.headers,
                               json={"category_code": "fire", "priority": 1})
        assert put.json() == {"kind": "event", "value": "台风", "category_code": "fire", "priority": 1}
        listed = await client.get("/api/v1/admin/cap-categories", headers=admin.headers)
        assert listed.json() == [put.json()]
        first = await client.delete("/api/v1/admin/cap-categories/event/台风", headers=admin.headers)
        assert first.status_code == 204
        gone = await client.delete("/api/v1/admin/cap-categories/event/台风", headers=admin.headers)
        assert gone.status_code == 404


async def test_category_table_cli(cap_world, dsettings, capsys) -> None:
    def run(*argv: str) -> int:
        args = build_parser().parse_args(list(argv))
        return COMMANDS[args.command].run(args, dsettings)

    assert await asyncio.to_thread(run, "cap-category-set", "event", "暴雨", "fire", "--priority", "1") == 0
    assert await asyncio.to_thread(run, "cap-categories") == 0
    assert "event\t暴雨\tfire\t1" in capsys.readouterr().out
    assert await asyncio.to_thread(run, "cap-category-remove", "event", "暴雨") == 0
    assert await asyncio.to_thread(run, "cap-category-remove", "event", "暴雨") == 1


async def test_update_outside_the_callers_region_is_refused(cap_world, dsettings, clean_db) -> None:
    world, admin = cap_world
    async with make_sessionmaker(clean_db)() as s, s.begin():
        west = await add_user(s, dsettings, username="op-sa", role="operator", region_code="SA")
    async with dispatch_client(dsettings) as client:
        await _map(client, admin, "event", "暴雨")
        east = await client.post("/api/v1/cap", headers=world.op.headers | XML,
                                 content=_chinese("east-1", polygon=_polygon(2.2, 0.2, 2.8, 0.8)))
        assert east.status_code == 201 and east.json()["grids"] == ["GB1"]
        r = await client.post("/api/v1/cap", headers=west.headers | XML, content=_chinese(
            "east-2", msg_type="Cancel", polygon=_polygon(2.2, 0.2, 2.8, 0.8),
            refs="qxj@example.gov.cn,east-1,2026-12-07T08:00:00+08:00"))
        assert r.status_code == 403
        # The wall's shapes follow the same scope: the east area is the city's, not the west street's.
        mine = await client.get("/api/v1/screen/areas", headers=world.op.headers)
        assert [f["id"] for f in mine.json()["features"]] == east.json()["incident_ids"]
        assert mine.json()["features"][0]["geometry"]["type"] in ("Polygon", "MultiPolygon")
        theirs = await client.get("/api/v1/screen/areas", headers=west.headers)
        assert theirs.json()["features"] == []
        worker = await client.get("/api/v1/screen/areas", headers=world.near.headers)
        assert worker.status_code == 403
    assert await _count(clean_db, "SELECT count(*) FROM cap_messages") == 1
    assert await _count(clean_db, "SELECT count(*) FROM incidents WHERE status = 'cancelled'") == 0


async def test_a_gbk_encoded_message_is_read_by_its_declaration(cap_world, dsettings, clean_db) -> None:
    world, admin = cap_world
    utf8 = _chinese("gbk-1", polygon=_polygon(0.2, 0.2, 0.8, 0.8)).decode()
    gbk = utf8.replace('encoding="UTF-8"', 'encoding="GBK"').encode("gbk")
    async with dispatch_client(dsettings) as client:
        await _map(client, admin, "event", "暴雨")
        r = await client.post("/api/v1/cap", headers=world.op.headers | XML, content=gbk)
        assert r.status_code == 201, r.text
        assert r.json()["grids"] == ["GA1"]
    async with clean_db.connect() as conn:
        desc = (await conn.execute(text("SELECT description FROM incidents"))).scalar_one()
        stored = (await conn.execute(text("SELECT xml FROM cap_messages"))).scalar_one()
    assert desc.startswith("暴雨橙色预警") and "示例市气象台" in stored
