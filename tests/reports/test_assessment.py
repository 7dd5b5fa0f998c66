"""Assessment equals a hand computation from the raw rows for every unit of five levels under three schemes;
its sums agree with the statistics; a published period keeps its figures when the scheme changes; explanations
list the incidents behind each figure; bad input and roles over HTTP."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta

import openpyxl
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from command.core.security import Principal
from command.reports import assessment, assessment_schemes, stats
from command.reports.periods import period_of
from tests import loop_world as w
from tests.environment import make_test_settings
from tests.reports.assessment_world import build, hand_score, hand_sums

ADMIN = Principal(user_id=0, username="admin", role="admin")
MARCH = period_of("month", date(2026, 3, 10))
TZ_NAME = "Asia/Shanghai"
SCHEME_B = [{"code": "on_time_disposal_rate", "weight": 50, "direction": "up"},
            {"code": "satisfaction_rate", "weight": 30, "direction": "up"},
            {"code": "rework_rate", "weight": 20, "direction": "down"}]
SCHEME_C = [{"code": "sign_rate", "weight": 1, "direction": "up"},
            {"code": "supervision_count", "weight": 3, "direction": "down"},
            {"code": "close_rate", "weight": 2, "direction": "up"},
            {"code": "overdue_rate", "weight": 4, "direction": "down"},
            {"code": "callback_rate", "weight": 4, "direction": "up"}]
WORKER_C = [*SCHEME_C, {"code": "duty_hours", "weight": 5, "direction": "up", "target": 0.05},
            {"code": "patrol_km", "weight": 5, "direction": "up", "target": 0.2},
            {"code": "self_found", "weight": 2, "direction": "up", "target": 1}]


@pytest.fixture
async def app(clean_db: AsyncEngine):
    async with w.loop_app(clean_db, make_test_settings()) as app:
        start, _ = MARCH.bounds(TZ_NAME)
        app.data = await build(app.sessionmaker, app.world, start)
        yield app


def _scheme_dicts(s: assessment_schemes.Scheme) -> list[dict]:
    return [{"code": x.code, "weight": x.weight, "direction": x.direction, "target": x.target} for x in s.indices]


async def test_scores_equal_hand_computation_for_three_schemes(app) -> None:
    start, end = MARCH.bounds(TZ_NAME)
    checked = 0
    async with app.sessionmaker() as session:
        for level in ("district", "street", "grid", "department", "worker"):
            want_sums = hand_sums(app.data, level, start, end)
            req = assessment.Request(level, MARCH, None, TZ_NAME)
            got_sums = await assessment.sums(session, req)
            assert set(got_sums) == set(want_sums), level
            for unit, s in want_sums.items():
                for col, v in s.items():
                    assert got_sums[unit][col] == pytest.approx(v, rel=1e-3), (level, unit, col)
            default = assessment_schemes.default_scheme(level)
            other = WORKER_C if level == "worker" else SCHEME_C
            for indices in (_scheme_dicts(default), SCHEME_B, other):
                scheme = assessment_schemes.Scheme(level, "t", date(2000, 1, 1),
                                                   assessment_schemes.validate(level, indices))
                result = await assessment.compute(session, req, scheme)
                for row in result["rows"]:
                    assert row["score"] == pytest.approx(hand_score(indices, want_sums[row["unit"]], MARCH.days),
                                                         abs=0.011), (level, row["unit"])
                    checked += 1
                scores = [r["score"] for r in result["rows"]]
                assert scores == sorted(scores, reverse=True)
                assert next(r["rank"] for r in result["rows"]) == 1
    assert checked >= 3 * 10  # ten units (2 districts, 3 streets, 3 grids, 3 departments, 1 worker), 3 schemes
    worker = hand_sums(app.data, "worker", start, end)[str(app.data.worker_id)]
    assert worker["duty_s"] == 38 * 60 and worker["self_found"] == 3 and worker["patrol_m"] > 3000


async def test_sums_agree_with_statistics(app) -> None:
    start, end = MARCH.bounds(TZ_NAME)
    async with app.sessionmaker() as session:
        for level, group in (("district", "region"), ("department", "department")):
            got = await assessment.sums(session, assessment.Request(level, MARCH, None, TZ_NAME))
            figures = await stats.compute(session, principal=ADMIN,
                                          q=stats.Query(start=start, end=end, group=group))
            for f in figures:
                for ours, theirs in (("received", "received"), ("sign_due", "sign_due"),
                                     ("signed_on_time", "signed_on_time"), ("resolved", "resolved"),
                                     ("resolved_on_time", "resolved_on_time"), ("reworked", "reworked"),
                                     ("rated", "rated"), ("satisfied", "satisfied")):
                    assert got[f.key][ours] == getattr(f, theirs), (level, f.key, ours)


async def test_published_period_survives_a_scheme_change(app) -> None:
    c = app.client
    admin, sup = await app.as_("admin"), await app.as_("sup1")
    params = {"level": "street", "period": "month", "date": "2026-03-10"}
    before = (await c.get("/api/v1/assessment/scores", params=params, headers=admin)).json()
    assert before["published"] is None and len(before["rows"]) == 3
    r = await c.post("/api/v1/assessment/publish", json=params, headers=admin)
    assert r.status_code == 201, r.text
    r = await c.post("/api/v1/assessment/publish", json=params, headers=admin)
    assert r.status_code == 409 and r.json()["error"]["code"] == "conflict"
    # A new version in force from March 1st: March is published, April is not.
    r = await c.post("/api/v1/assessment/schemes", headers=admin, json={
        "level": "street", "name": "方案B", "effective_from": "2026-03-01", "indices": SCHEME_B})
    assert r.status_code == 201, r.text
    after = (await c.get("/api/v1/assessment/scores", params=params, headers=admin)).json()
    assert after["published"] is not None
    strip = lambda rows: [{k: v for k, v in r.items() if not k.startswith("prev")} for r in rows]  # noqa: E731
    for row in after["rows"]:
        for fig in row["indices"].values():
            fig.pop("prev_value", None)
    for row in before["rows"]:
        for fig in row["indices"].values():
            fig.pop("prev_value", None)
    assert strip(after["rows"]) == strip(before["rows"])
    assert after["scheme"]["id"] is None  # the default that was in force when it was published
    async with app.sessionmaker() as session:
        live = await assessment.compute(session, assessment.Request("street", MARCH, None, TZ_NAME))
    assert live["scheme"]["name"] == "方案B"
    assert [r["score"] for r in live["rows"]] != [r["score"] for r in before["rows"]]
    april = (await c.get("/api/v1/assessment/scores", params=params | {"date": "2026-04-02"},
                         headers=admin)).json()
    assert april["scheme"]["name"] == "方案B" and april["previous_period"]["start"] == "2026-03-01"
    versions = (await c.get("/api/v1/assessment/schemes", params={"level": "street"}, headers=sup)).json()
    assert [v["name"] for v in versions["versions"]][-1] == "方案B"


async def test_explain_lists_the_incidents_behind_each_figure(app) -> None:
    c = app.client
    start, end = MARCH.bounds(TZ_NAME)
    ids = dict(zip(range(len(app.data.ids)), app.data.ids, strict=True))
    r = await c.get("/api/v1/assessment/explain", headers=await app.as_("sup1"),
                    params={"level": "grid", "unit": "D1S1C1G1", "period": "month", "date": "2026-03-10"})
    assert r.status_code == 200, r.text
    body = r.json()
    want = hand_sums(app.data, "grid", start, end)["D1S1C1G1"]
    in_grid = [ids[k] for k, sp in enumerate(app.data.specs) if sp.grid == "D1S1C1G1" and sp.status != "merged"
               and start <= sp.created < end]
    assert body["received_ids"] == sorted(in_grid + app.data.self_found_ids)
    for code, fig in body["indices"].items():
        assert fig["num_ids"] is not None and fig["den_ids"] is not None, code
        assert set(fig["num_ids"]) <= set(in_grid)
    fig = body["indices"]["disposal_rate"]
    assert fig["num"] == want["resolved"] == len(fig["num_ids"]) and fig["den"] == len(fig["den_ids"])
    resolved = [ids[k] for k, sp in enumerate(app.data.specs) if ids[k] in in_grid and sp.resolved_h is not None]
    assert fig["num_ids"] == sorted(resolved)
    worker = (await c.get("/api/v1/assessment/explain", headers=await app.as_("admin"), params={
        "level": "worker", "unit": str(app.data.worker_id), "period": "month", "date": "2026-03-10"})).json()
    assert worker["indices"]["self_found"]["num_ids"] == app.data.self_found_ids
    assert worker["indices"]["duty_hours"]["num_ids"] is None and worker["indices"]["duty_hours"]["num"] > 0.6


async def test_scope_xlsx_and_refusals(app) -> None:
    c = app.client
    sup = await app.as_("sup1")  # region D1
    params = {"level": "street", "period": "month", "date": "2026-03-10"}
    r = await c.get("/api/v1/assessment/scores", params=params, headers=sup)
    assert {row["unit"] for row in r.json()["rows"]} == {"D1S1", "D1S2"}
    r = await c.get("/api/v1/assessment/scores", params=params | {"format": "xlsx"}, headers=sup)
    assert r.status_code == 200, r.text
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
    table = list(sheet.iter_rows(min_row=3, values_only=True))
    assert sorted(row[1] for row in table) == ["D1S1", "D1S2"]
    r = await c.post("/api/v1/assessment/table.xlsx", headers=sup, json={
        "title": "表", "headers": ["a", "b"], "rows": [["=cmd()", 1], [None, 2.5]]})
    assert r.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
    assert sheet["A3"].value == "'=cmd()" and sheet["B4"].value == 2.5
    op = await app.as_("op1")
    bad = [
        ("get", "/api/v1/assessment/scores", params | {"scope": "D2"}, "sup1", 422),
        ("get", "/api/v1/assessment/scores", params | {"scope": "nowhere"}, "admin", 422),
        ("get", "/api/v1/assessment/scores", params | {"level": "planet"}, "admin", 422),
        ("get", "/api/v1/assessment/scores", params | {"period": "decade"}, "admin", 422),
        ("get", "/api/v1/assessment/scores", params | {"period": "range", "to": "2026-03-01"}, "admin", 422),
        ("get", "/api/v1/assessment/scores", params | {"period": "range", "to": "2028-03-01"}, "admin", 422),
        ("get", "/api/v1/assessment/scores", {"level": "street"}, "admin", 422),
        ("get", "/api/v1/assessment/scores", params, "w1", 403),
        ("get", "/api/v1/assessment/scores", params, "water", 403),
        ("get", "/api/v1/assessment/explain", params | {"unit": "D9"}, "admin", 422),
        ("post", "/api/v1/assessment/publish", params, "op1", 403),
        ("post", "/api/v1/assessment/publish", params | {"date": (date.today() + timedelta(days=40)).isoformat()},
         "admin", 409),
        ("post", "/api/v1/assessment/publish", params | {"extra": 1}, "admin", 422),
        ("post", "/api/v1/assessment/schemes", {"level": "street", "name": "x", "effective_from": "2026-01-01",
                                                "indices": SCHEME_B}, "sup1", 403),
        ("post", "/api/v1/assessment/schemes", {"level": "street", "name": "x", "effective_from": "2026-01-01",
                                                "indices": [{"code": "nope", "weight": 1}]}, "admin", 422),
        ("post", "/api/v1/assessment/schemes", {"level": "street", "name": "x", "effective_from": "2026-01-01",
                                                "indices": [{"code": "duty_hours", "weight": 1, "target": 8}]},
         "admin", 422),  # a worker index at street level
        ("post", "/api/v1/assessment/schemes", {"level": "worker", "name": "x", "effective_from": "2026-01-01",
                                                "indices": [{"code": "duty_hours", "weight": 1}]}, "admin", 422),
        ("post", "/api/v1/assessment/schemes", {"level": "street", "name": "x", "effective_from": "2026-01-01",
                                                "indices": [SCHEME_B[0], SCHEME_B[0]]}, "admin", 422),
        ("post", "/api/v1/assessment/schemes", {"level": "street", "name": "x", "effective_from": "2026-01-01",
                                                "indices": [{"code": "sign_rate", "weight": 0}]}, "admin", 422),
        ("post", "/api/v1/assessment/table.xlsx", {"title": "t", "headers": ["a"], "rows": [[1, 2]]}, "op1", 422),
    ]
    assert op
    for method, url, data, user, status in bad:
        headers = await app.as_(user)
        r = await (c.get(url, params=data, headers=headers) if method == "get"
                   else c.post(url, json=data, headers=headers))
        assert r.status_code == status, (url, data, user, r.text)
        assert "error" in r.json()
    versions = (await c.get("/api/v1/assessment/schemes", params={"level": "street"}, headers=sup)).json()
    assert len(versions["versions"]) == 1  # nothing refused was stored
    assert (await c.get("/api/v1/assessment/scores", params=params)).status_code == 401


def test_periods() -> None:
    d = date(2026, 2, 20)
    got = {k: (period_of(k, d).start.isoformat(), period_of(k, d).end.isoformat())
           for k in ("day", "week", "half_month", "month", "quarter", "year")}
    assert got == {"day": ("2026-02-20", "2026-02-21"), "week": ("2026-02-16", "2026-02-23"),
                   "half_month": ("2026-02-16", "2026-03-01"), "month": ("2026-02-01", "2026-03-01"),
                   "quarter": ("2026-01-01", "2026-04-01"), "year": ("2026-01-01", "2027-01-01")}
    from command.reports.periods import previous
    assert previous(period_of("half_month", date(2026, 3, 3))).start == date(2026, 2, 16)
    assert previous(period_of("range", date(2026, 3, 3), date(2026, 3, 5))).start == date(2026, 2, 28)
    assert period_of("quarter", date(2026, 12, 31)).end == date(2027, 1, 1)
    assert datetime.combine(MARCH.start, datetime.min.time()).month == 3
