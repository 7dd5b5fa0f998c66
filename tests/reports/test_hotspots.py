"""Hotspots: incidents per grid; a generated repeat cluster (same category within 100 m, 4 times in 10 days) and a
repeat caller (one phone written three ways) are found with exactly their incidents, while 200 random
non-repeats (same-category points at least 300 m apart, every phone different) are not; the distance, count and
window thresholds hold; a cluster becomes one supervised case, within the caller's scope only."""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from command.reports import hotspots
from tests import loop_world as w
from tests.environment import make_test_settings
from tests.reports.test_loop_stats import TZ

START = datetime(2026, 3, 1, tzinfo=TZ)
END = datetime(2026, 4, 1, tzinfo=TZ)
CENTRE = (120.05, 30.05)  # in D1S1C1G1
M_LAT = 1 / 111_320  # degrees of latitude per metre
M_LON = 1 / (111_320 * math.cos(math.radians(30.05)))


def grid_of(lon: float, lat: float) -> str:
    if lat >= 30.10:
        return "D2S1C1G1"
    return "D1S1C1G1" if lon < 120.10 else "D1S2C1G1"


def near(dx_m: float, dy_m: float) -> tuple[float, float]:
    return CENTRE[0] + dx_m * M_LON, CENTRE[1] + dy_m * M_LAT


def far_apart(rnd: random.Random, placed: list[tuple[float, float]], min_m: float) -> tuple[float, float]:
    while True:
        p = (rnd.uniform(120.001, 120.199), rnd.uniform(30.001, 30.199))
        if math.dist(near(0, 0), p) / M_LAT < 2000:
            continue  # keep clear of the generated cluster
        if all(math.hypot((p[0] - q[0]) / M_LON, (p[1] - q[1]) / M_LAT) >= min_m for q in placed):
            return p


@pytest.fixture
async def app(clean_db: AsyncEngine):
    async with w.loop_app(clean_db, make_test_settings()) as app:
        rnd = random.Random(16)
        made: dict[str, list[int]] = {"cluster": [], "caller": [], "noise": [], "outlier": []}
        async with app.sessionmaker() as s, s.begin():
            async def add(kind: str, lonlat: tuple[float, float], category: str, when: datetime,
                          phone: str | None) -> None:
                inc = await w.incident(s, category=category, grid=grid_of(*lonlat), lonlat=lonlat, created_at=when,
                                       reporter_phone=phone, status="dispatched")
                made[kind].append(inc.id)

            for n, (dx, dy) in enumerate(((0, 0), (30, 10), (-20, 25), (45, -30))):  # chained within 100 m
                await add("cluster", near(dx, dy), "road", START + timedelta(days=3 + 3 * n), f"1390000{n:04d}")
            await add("outlier", near(200, 0), "road", START + timedelta(days=5), None)  # same category, 155 m on
            for n, phone in enumerate(("13800001111", "+86 138-0000-1111", "138 0000 1111")):
                await add("caller", far_apart(rnd, [], 0), rnd.choice(("water", "noise")),
                          START + timedelta(days=10 + n * 4), phone)
            placed: dict[str, list[tuple[float, float]]] = {}
            for n in range(200):
                category = rnd.choice(("road", "water", "petition", "noise"))
                p = far_apart(rnd, placed.setdefault(category, []), 300)
                placed[category].append(p)
                await add("noise", p, category, START + timedelta(minutes=rnd.randrange(30 * 24 * 60)),
                          f"15{n:09d}")
        app.made = made
        yield app


async def test_cluster_and_caller_found_and_noise_not(app) -> None:
    made = app.made
    async with app.sessionmaker() as s:
        win = hotspots.Window(START, END, None, distance_m=100, min_count=3, days=30)
        clusters = await hotspots.repeat_clusters(s, win)
        callers = await hotspots.repeat_callers(s, win)
        assert [c["incident_ids"] for c in clusters] == [made["cluster"]]
        assert clusters[0]["category"] == "road" and clusters[0]["in_window"] == 4
        assert [c["incident_ids"] for c in callers] == [made["caller"]]
        assert callers[0]["phone"] == "138****1111"
        found = {i for c in clusters + callers for i in c["incident_ids"]}
        assert not found & set(made["noise"]) and len(made["noise"]) == 200
        # Thresholds: 200 m takes in the outlier; k = 5 or a 5-day window finds no cluster.
        wide = await hotspots.repeat_clusters(s, hotspots.Window(START, END, None, distance_m=200, min_count=3))
        assert sorted(wide[0]["incident_ids"]) == sorted(made["cluster"] + made["outlier"])
        assert await hotspots.repeat_clusters(s, hotspots.Window(START, END, None, min_count=5)) == []
        assert await hotspots.repeat_clusters(s, hotspots.Window(START, END, None, days=5)) == []
        assert await hotspots.repeat_callers(s, hotspots.Window(START, END, None, days=7)) == []
        # Scoped to D2: the cluster (in D1) is not there.
        assert await hotspots.repeat_clusters(s, hotspots.Window(START, END, "D2")) == []
        heat = await hotspots.grid_heat(s, hotspots.Window(START, END, None))
        (n_total,) = (await s.execute(text("SELECT count(*) FROM incidents"))).one()
        assert sum(g["count"] for g in heat) == n_total
        assert [g["count"] for g in heat] == sorted((g["count"] for g in heat), reverse=True)


async def test_http_repeats_and_supervising_a_cluster(app) -> None:
    c, made = app.client, app.made
    params = {"period": "month", "date": "2026-03-05"}
    r = await c.get("/api/v1/hotspots/repeats", params=params, headers=await app.as_("op1"))
    assert r.status_code == 200, r.text
    assert [x["incident_ids"] for x in r.json()["clusters"]] == [made["cluster"]]
    r = await c.get("/api/v1/hotspots/grids", params=params, headers=await app.as_("op2"))  # D2 only
    assert {g["code"] for g in r.json()["grids"]} <= {"D2S1C1G1"}
    body = {"incident_ids": made["cluster"], "reason": "同一路段反复报修，请重点调度"}
    assert (await c.post("/api/v1/hotspots/supervise", json=body, headers=await app.as_("op1"))).status_code == 403
    r = await c.post("/api/v1/hotspots/supervise", json=body, headers=await app.as_("sup1"))
    assert r.status_code == 201, r.text
    assert r.json()["incident_id"] == max(made["cluster"])
    async with app.sessionmaker() as s:
        rows = (await s.execute(text("SELECT incident_id, reason FROM events WHERE kind = 'supervision.raised'"))).all()
    assert len(rows) == 1 and rows[0][0] == max(made["cluster"])
    assert all(f"#{i}" in rows[0][1] for i in made["cluster"])
    async with app.sessionmaker() as s:
        (d2,) = (await s.execute(text("SELECT id FROM incidents WHERE region_code = 'D2S1C1G1' LIMIT 1"))).one()
    bad = [
        ({"incident_ids": [made["cluster"][0], d2], "reason": "x"}, "sup1", 422),   # out of scope
        ({"incident_ids": [made["cluster"][0], 999999], "reason": "x"}, "sup1", 422),
        ({"incident_ids": [made["cluster"][0]], "reason": "x"}, "sup1", 422),
        ({"incident_ids": made["cluster"], "reason": " "}, "sup1", 422),
        ({"incident_ids": made["cluster"]}, "sup1", 422),
    ]
    for payload, user, status in bad:
        r = await c.post("/api/v1/hotspots/supervise", json=payload, headers=await app.as_(user))
        assert r.status_code == status, (payload, r.text)
    async with app.sessionmaker() as s, s.begin():
        await s.execute(text("UPDATE incidents SET status = 'closed' WHERE id = ANY(:ids)"), {"ids": made["caller"]})
    r = await c.post("/api/v1/hotspots/supervise", json={"incident_ids": made["caller"], "reason": "x"},
                     headers=await app.as_("admin"))
    assert r.status_code == 409
    for q in ({"distance_m": 0}, {"min_count": 1}, {"days": 400}, {"period": "century"}):
        r = await c.get("/api/v1/hotspots/repeats", params=params | q, headers=await app.as_("op1"))
        assert r.status_code == 422, q
    assert (await c.get("/api/v1/hotspots/grids", params=params, headers=await app.as_("w1"))).status_code == 403
