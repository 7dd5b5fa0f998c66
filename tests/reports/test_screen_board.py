"""The screens' read endpoints (web/api/screen_board.py) on the demo city: who may read them, the watched region
and its scope, the incidents, deadlines, figures, trend and resources they return, and the public categories."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from command.demo.people import DEMO_PASSWORD
from tests.helpers import app_client, login

STREET_2, STREET_5 = "320102002", "320102005"
ENDPOINTS = ("/api/v1/screen/board", "/api/v1/screen/figures", "/api/v1/screen/resources")


async def _point(engine: AsyncEngine, code: str) -> tuple[float, float]:
    async with engine.connect() as conn:
        row = (await conn.execute(text("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM regions "
                                       "WHERE code = :c) s"), {"c": code})).one()
    return float(row[0]), float(row[1])


async def _alert(client: httpx.AsyncClient, headers: dict, engine: AsyncEngine, code: str, category: str) -> dict:
    lon, lat = await _point(engine, code)
    r = await client.post("/api/v1/alerts", headers=headers, json={
        "category": category, "description": f"test in {code}", "lon": lon, "lat": lat, "channel": "hotline"})
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture(scope="module")
async def city(demo_db: AsyncEngine, settings) -> dict:
    """Two incidents in street 2, one in street 5, made through the API."""
    async with app_client(settings) as client:
        op = await login(client, "operator", DEMO_PASSWORD)
        made = [await _alert(client, op, demo_db, STREET_2 + "001", "public_facilities"),
                await _alert(client, op, demo_db, STREET_2 + "003", "fire"),
                await _alert(client, op, demo_db, STREET_5 + "002", "public_facilities")]
    return {"engine": demo_db, "in_2": [made[0]["id"], made[1]["id"]], "in_5": [made[2]["id"]]}


async def test_screens_need_a_watcher(city, settings) -> None:
    async with app_client(settings) as client:
        for path in ENDPOINTS:
            assert (await client.get(path)).status_code == 401
            for username in ("w0001", "l-power"):
                r = await client.get(path, headers=await login(client, username, DEMO_PASSWORD))
                assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden", (path, username)


async def test_a_region_outside_the_callers_is_refused_and_an_unknown_one_is_invalid(city, settings) -> None:
    async with app_client(settings) as client:
        street = await login(client, "op-2", DEMO_PASSWORD)
        for path in (*ENDPOINTS, "/api/v1/screen/config"):
            r = await client.get(path, params={"region": STREET_5}, headers=street)
            assert r.status_code == 403, (path, r.text)
            r = await client.get(path, params={"region": "nowhere"}, headers=street)
            assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_input", (path, r.text)
            r = await client.get(path, params={"region": "x" * 65}, headers=street)
            assert r.status_code == 422, path
        # Within one's own region it is fine: the district operator watches street 2.
        district = await login(client, "operator", DEMO_PASSWORD)
        r = await client.get("/api/v1/screen/config", params={"region": STREET_2}, headers=district)
        assert r.status_code == 200 and r.json()["region"]["code"] == STREET_2


async def test_the_board_is_scoped_to_the_watched_region(city, settings) -> None:
    async with app_client(settings) as client:
        street = (await client.get("/api/v1/screen/board",
                                   headers=await login(client, "op-2", DEMO_PASSWORD))).json()
        district = (await client.get("/api/v1/screen/board",
                                     headers=await login(client, "operator", DEMO_PASSWORD))).json()
        chosen = (await client.get("/api/v1/screen/board", params={"region": STREET_2},
                                   headers=await login(client, "operator", DEMO_PASSWORD))).json()
    assert street["region"]["code"] == STREET_2 and district["region"]["code"] == "320102"
    assert {i["id"] for i in street["incidents"]} == set(city["in_2"]) == {i["id"] for i in chosen["incidents"]}
    assert {i["id"] for i in district["incidents"]} == set(city["in_2"] + city["in_5"])
    assert sum(street["counts"].values()) == 2 and sum(district["counts"].values()) == 3
    # Names: the chain above, the street, and two levels below it; no other street's.
    levels = {n["level"] for n in street["names"].values()}
    assert street["names"]["320102"]["name"] == "城南区" and levels == {"district", "street", "community", "grid"}
    assert not any(code.startswith(STREET_5) for code in street["names"])
    assert "power-320102" in street["departments"] and "police-320102002" in street["departments"]
    assert "police-320102005" not in street["departments"]


async def test_deadlines_counting_down(city, settings) -> None:
    engine: AsyncEngine = city["engine"]
    open_2, fire_2 = city["in_2"]
    [open_5] = city["in_5"]
    now = datetime.now(UTC)
    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM deadlines"))
        rows = [("t:overdue", open_2, "respond", now - timedelta(minutes=5), 0),
                ("t:soon", fire_2, "resolve", now + timedelta(hours=1), 0),
                ("t:later", open_5, "resolve", now + timedelta(days=3), 0),
                ("t:supervised", open_5, "feedback", now + timedelta(days=2), 1)]
        for key, incident, kind, due, level in rows:
            await conn.execute(text("INSERT INTO deadlines (key, incident_id, kind, due_at, supervision_level) "
                                    "VALUES (:k, :i, :kind, :due, :lvl)"),
                               {"k": key, "i": incident, "kind": kind, "due": due, "lvl": level})
    async with app_client(settings) as client:
        board = (await client.get("/api/v1/screen/board",
                                  headers=await login(client, "operator", DEMO_PASSWORD))).json()
        street = (await client.get("/api/v1/screen/board",
                                   headers=await login(client, "op-2", DEMO_PASSWORD))).json()
    # Supervised first, then by due time; the one due in three days is not on the list yet.
    assert [(d["incident"]["id"], d["kind"], d["overdue"]) for d in board["deadlines"]] == [
        (open_5, "feedback", False), (open_2, "respond", True), (fire_2, "resolve", False)]
    assert board["deadlines"][0]["supervision_level"] == 1
    assert [d["incident"]["id"] for d in street["deadlines"]] == [open_2, fire_2]
    async with engine.begin() as conn:  # once the incident is resolved its deadlines stop counting
        await conn.execute(text("UPDATE incidents SET status = 'resolved' WHERE id = :i"), {"i": fire_2})
    async with app_client(settings) as client:
        board = (await client.get("/api/v1/screen/board",
                                  headers=await login(client, "operator", DEMO_PASSWORD))).json()
    assert fire_2 not in [d["incident"]["id"] for d in board["deadlines"]]
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE incidents SET status = 'dispatched' WHERE id = :i"), {"i": fire_2})
        await conn.execute(text("DELETE FROM deadlines"))


async def test_todays_figures_and_trend(city, settings) -> None:
    async with app_client(settings) as client:
        district = (await client.get("/api/v1/screen/figures",
                                     headers=await login(client, "operator", DEMO_PASSWORD))).json()
        street = (await client.get("/api/v1/screen/figures",
                                   headers=await login(client, "op-2", DEMO_PASSWORD))).json()
    assert district["total"]["received"] == 3 and street["total"]["received"] == 2
    by_cat = {r["key"]: r for r in district["by_category"]}
    assert by_cat["public_facilities"]["received"] == 2 and by_cat["public_facilities"]["name_zh"] == "公共设施管理"
    assert district["by_category"][0]["key"] == "public_facilities"  # most received first
    assert {r["key"]: r["received"] for r in district["by_region"]} == {STREET_2: 2, STREET_5: 1}
    assert {r["level"] for r in district["by_region"]} == {"street"}
    assert {r["level"] for r in street["by_region"]} == {"community"}
    assert len(district["trend"]) == 24 and district["trend"][-1]["received"] == 3
    assert sum(h["received"] for h in street["trend"]) == 2


async def test_resources_of_the_watched_region(city, settings) -> None:
    engine: AsyncEngine = city["engine"]
    async with app_client(settings) as client:
        district = (await client.get("/api/v1/screen/resources",
                                     headers=await login(client, "operator", DEMO_PASSWORD))).json()
        street = (await client.get("/api/v1/screen/resources",
                                   headers=await login(client, "op-2", DEMO_PASSWORD))).json()
    async with engine.connect() as conn:
        inside = (await conn.execute(text(
            "SELECT count(*) FROM resource_points p JOIN regions r ON r.code = :c "
            "WHERE ST_Intersects(p.geom, r.geom)"), {"c": STREET_2})).scalar_one()
    assert district["type"] == "FeatureCollection" and len(district["features"]) == 704
    assert 0 < len(street["features"]) == inside < 704
    kinds = {f["properties"]["kind"] for f in district["features"]}
    assert kinds == {"hydrant", "shelter", "aed", "hospital", "police_station", "camera"}


async def test_categories_are_public(city, settings) -> None:
    async with app_client(settings) as client:
        r = await client.get("/api/v1/categories")
    assert r.status_code == 200
    items = r.json()["items"]
    assert len(items) == 22 and items[0]["group"] == "emergency" and items[-1]["group"] == "service"
    assert {"code", "name_zh", "name_en", "default_priority", "item_type"} <= set(items[0])
