"""Published reports (通报): the scheduler, at a fixed clock, generates the four kinds for a subscribed region;
their PDFs are rendered to PNG (pdftoppm, looked at) and their text (pdftotext) carries the figures the
statistics and assessment APIs answer; regenerating gives the same figures; released reports reach the
subscribers' notice lists, a half-monthly one only once its 研判 is written and released."""

from __future__ import annotations

import io
import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from command.core.security import Principal
from command.ops import report_jobs
from command.reports import published
from command.reports import published_figures as pf
from command.reports.periods import Period
from tests import loop_world as w
from tests.environment import make_test_settings
from tests.reports.assessment_world import build

NOW = datetime(2026, 4, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, Wednesday 1 April
TZ = "Asia/Shanghai"
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
ADMIN = Principal(user_id=0, username="admin", role="admin")
WANT = {"daily": ("2026-03-31", "2026-04-01"), "weekly": ("2026-03-23", "2026-03-30"),
        "half_monthly": ("2026-03-16", "2026-04-01"), "monthly": ("2026-03-01", "2026-04-01")}


@pytest.fixture
async def app(clean_db: AsyncEngine):
    async with w.loop_app(clean_db, make_test_settings()) as app:
        app.data = await build(app.sessionmaker, app.world, datetime(2026, 2, 28, 16, tzinfo=UTC))
        async with app.sessionmaker() as s, s.begin():
            await published.subscribe(s, user_id=app.world.users["sup1"], region="D1", kinds=list(pf.KINDS))
            await published.subscribe(s, user_id=app.world.users["w1"], region="D1",
                                      kinds=["half_monthly", "monthly"])
            # On 31 March: one D1 incident's deadline goes overdue (and stays unmet), another is supervised; one
            # overdue on 1 April (after the day) and one met on the 31st are not listed.
            ids = [r[0] for r in (await s.execute(text(
                "SELECT id FROM incidents WHERE region_path[1] = 'D1' AND created_at < '2026-03-30' "
                "AND status IN ('located', 'dispatched') "
                "ORDER BY id LIMIT 4"))).all()]
            def at(day: int, hour: int) -> datetime:
                return datetime(2026, 3, 31, hour, tzinfo=UTC) + (day - 31) * (datetime(2026, 3, 2) -
                                                                             datetime(2026, 3, 1))

            for n, (over, met) in enumerate(((at(31, 5), None), (at(32, 1), None), (at(31, 3), at(31, 6)))):
                await s.execute(text(
                    "INSERT INTO deadlines (key, incident_id, kind, due_at, overdue_at, met_at) VALUES "
                    "(:k, :i, 'resolve', :o, :o, :m)"),
                    {"k": f"report-test-{n}", "i": ids[n], "o": over, "m": met})
            await s.execute(text(
                "INSERT INTO events (kind, actor, region_path, incident_id, created_at) VALUES "
                "('supervision.raised', 'system:scheduler', ARRAY['D1'], :i, :t)"),
                {"i": ids[3], "t": at(31, 4)})
            app.marked = ids
        yield app


def _text(pdf: bytes, name: str) -> str:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"report-{name}.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "2", str(path), str(SHOTS / f"report-{name}")],
                   check=True)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


async def _stats(app, period: dict, group: str) -> dict:  # type: ignore[no-untyped-def]
    start = datetime.fromisoformat(period["start"] + "T00:00:00+08:00")
    end = datetime.fromisoformat(period["end"] + "T00:00:00+08:00")
    r = await app.client.get("/api/v1/stats", headers=await app.as_("admin"), params={
        "from": start.isoformat(), "to": end.isoformat(), "group": group, "region": "D1"})
    assert r.status_code == 200, r.text
    return r.json()


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v * 100:.1f}%"


async def test_scheduler_generates_the_four_reports_with_the_api_figures(app, redis) -> None:
    got = await report_jobs.run_due(app.sessionmaker, redis, tz=TZ, now=NOW)
    assert len(got.ids) == 4 and got.pushed == 3  # the half-monthly one waits for its 研判
    again = await report_jobs.run_due(app.sessionmaker, redis, tz=TZ, now=NOW)
    assert again.ids == []
    async with app.sessionmaker() as s:
        reports = {r["kind"]: r for r in await published.list_reports(s, ADMIN)}
        assert {k: (r["period_start"], r["period_end"]) for k, r in reports.items()} == WANT
        assert reports["half_monthly"]["status"] == "draft" and reports["monthly"]["status"] == "released"
        for kind, meta in reports.items():
            report = await published.get(s, ADMIN, meta["id"])
            figures = report["figures"]
            pdf, _ = await published.file(s, ADMIN, meta["id"], "pdf")
            assert pdf.startswith(b"%PDF")
            body = _text(pdf, kind)
            api = await _stats(app, figures["period"], "region")
            assert figures["total"]["received"] == api["total"]["received"] > 0, kind
            assert figures["total"]["resolved"] == api["total"]["resolved"]
            line = next(x for x in body.splitlines() if x.strip().startswith("受理量"))
            assert line.split()[1] == str(api["total"]["received"]), (kind, line)
            line = next(x for x in body.splitlines() if x.strip().startswith("办结率"))
            assert line.split()[1] == _pct(api["total"]["rates"]["resolution_rate"]), (kind, line)
            for row in api["rows"]:  # one line per street: its name, received, resolved
                name = next(r["name"] for r in figures["by_region"] if r["key"] == row["key"])
                cells = next(x.split() for x in body.splitlines() if x.split()[:1] == [name]
                             and len(x.split()) >= 7)
                assert cells[1:4] == [str(row["received"]), str(row["resolved"]), str(row["resolved_on_time"])]
            xlsx, _ = await published.file(s, ADMIN, meta["id"], "xlsx")
            sheet = openpyxl.load_workbook(io.BytesIO(xlsx))["合计 Total"]
            assert sheet.cell(2, 3).value == api["total"]["received"]
            # Reproducible: gathering the same period again gives the stored figures.
            again_figures = await pf.gather(s, pf.Target(kind, "D1", Period(
                figures["period"]["kind"], *(datetime.fromisoformat(figures["period"][k]).date()
                                             for k in ("start", "end")))), tz=TZ)
            assert json.loads(json.dumps(again_figures, default=str)) == figures
        daily = (await published.get(s, ADMIN, reports["daily"]["id"]))["figures"]
        assert daily["new"]["count"] == (await _stats(app, daily["period"], "total"))["total"]["received"]
        assert [r["id"] for r in daily["overdue"]["rows"]] == [app.marked[0]]
        assert [r["id"] for r in daily["supervised"]["rows"]] == [app.marked[3]]
        body = _text((await published.file(s, ADMIN, reports["daily"]["id"], "pdf"))[0], "daily")
        assert "超期事件（1 件）" in body and "督办事件（1 件）" in body
        monthly = (await published.get(s, ADMIN, reports["monthly"]["id"]))["figures"]
        body = _text((await published.file(s, ADMIN, reports["monthly"]["id"], "pdf"))[0], "monthly")
    r = await app.client.get("/api/v1/assessment/scores", headers=await app.as_("admin"),
                             params={"level": "street", "period": "month", "date": "2026-03-10", "scope": "D1"})
    assert r.status_code == 200, r.text
    ranked = [(x["name"], x["score"]) for x in r.json()["rows"]]
    assert [(x["name"], x["score"]) for x in monthly["ranking"]["rows"]] == ranked and len(ranked) == 2
    for n, (name, score) in enumerate(ranked, 1):
        assert any(ln.split()[:3] == [str(n), name, str(score)] for ln in body.splitlines()), name


async def test_half_monthly_analysis_release_and_notices_over_http(app, redis) -> None:
    await report_jobs.run_due(app.sessionmaker, redis, tz=TZ, now=NOW)
    c = app.client
    sup, sup2, w1, op1 = [await app.as_(u) for u in ("sup1", "sup2", "w1", "op1")]
    listed = (await c.get("/api/v1/reports", headers=op1)).json()["reports"]
    ids = {r["kind"]: r["id"] for r in listed}
    assert set(ids) == set(pf.KINDS)
    mine = (await c.get("/api/v1/notices/mine", headers=w1)).json()
    titles = [n["title"] for n in mine]
    assert any("月通报" in t for t in titles) and not any("半月研判" in t for t in titles)
    half = ids["half_monthly"]
    # Failure paths change nothing.
    r = await c.post(f"/api/v1/reports/{half}/release", headers=sup)
    assert r.status_code == 409 and "研判" in r.json()["error"]["message"]
    r = await c.put(f"/api/v1/reports/{ids['monthly']}/analysis", headers=sup, json={"analysis": "x"})
    assert r.status_code == 409
    r = await c.put(f"/api/v1/reports/{half}/analysis", headers=sup, json={"analysis": ""})
    assert r.status_code == 422
    r = await c.put(f"/api/v1/reports/{half}/analysis", headers=op1, json={"analysis": "x"})
    assert r.status_code == 403
    r = await c.get(f"/api/v1/reports/{half}", headers=sup2)  # D2's supervisor: not in their region
    assert r.status_code == 404
    r = await c.get("/api/v1/reports/999999/file", headers=sup)
    assert r.status_code == 404
    r = await c.get(f"/api/v1/reports/{half}/file", headers=sup, params={"format": "doc"})
    assert r.status_code == 422
    # Write, release, and it reaches the subscriber.
    note = "本期供水类诉求集中在区域D1S2，建议重点调度。"
    r = await c.put(f"/api/v1/reports/{half}/analysis", headers=sup, json={"analysis": note})
    assert r.status_code == 200 and r.json()["analysis"] == note and r.json()["status"] == "draft"
    r = await c.post(f"/api/v1/reports/{half}/release", headers=sup)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "released" and r.json()["notice_id"]
    assert (await c.post(f"/api/v1/reports/{half}/release", headers=sup)).status_code == 409
    r = await c.put(f"/api/v1/reports/{half}/analysis", headers=sup, json={"analysis": "改"})
    assert r.status_code == 409
    mine = (await c.get("/api/v1/notices/mine", headers=w1)).json()
    assert any("半月研判" in n["title"] for n in mine)
    r = await c.get(f"/api/v1/reports/{half}/file", headers=sup)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    body = _text(r.content, "half_monthly-released")
    assert "本期供水类诉求集中在区域" in body.replace("\n", "") and "草稿" not in body
    r = await c.get(f"/api/v1/reports/{half}/file", headers=sup, params={"format": "xlsx"})
    assert openpyxl.load_workbook(io.BytesIO(r.content))["概况 Summary"].cell(3, 2).value == note


async def test_subscriptions_validate_and_stay_in_scope(app) -> None:
    c = app.client
    sup, sup2, op1 = [await app.as_(u) for u in ("sup1", "sup2", "op1")]
    uid = app.world.users["op1"]
    for body, status in (({"user_id": uid, "region": "D1S1", "kinds": ["yearly"]}, 422),
                         ({"user_id": uid, "region": "NOPE", "kinds": ["daily"]}, 422),
                         ({"user_id": 999999, "region": "D1S1", "kinds": ["daily"]}, 422),
                         ({"user_id": uid, "region": "D1S1"}, 422)):
        r = await c.put("/api/v1/reports/subscriptions", headers=sup, json=body)
        assert r.status_code == status, (body, r.text)
    r = await c.put("/api/v1/reports/subscriptions", headers=sup2, json={"user_id": uid, "region": "D1S1",
                                                                          "kinds": ["daily"]})
    assert r.status_code == 422  # D1S1 is outside D2
    r = await c.put("/api/v1/reports/subscriptions", headers=op1, json={"user_id": uid, "region": "D1S1",
                                                                         "kinds": ["daily"]})
    assert r.status_code == 403
    r = await c.put("/api/v1/reports/subscriptions", headers=sup, json={"user_id": uid, "region": "D1S1",
                                                                         "kinds": ["weekly", "daily", "daily"]})
    assert r.status_code == 200 and r.json()["kinds"] == ["daily", "weekly"]
    subs = (await c.get("/api/v1/reports/subscriptions", headers=op1)).json()["subscriptions"]
    assert {(s["username"], s["region_code"]) for s in subs} >= {("op1", "D1S1"), ("sup1", "D1")}
    assert (await c.get("/api/v1/reports/subscriptions", headers=sup2)).json()["subscriptions"] == []
    r = await c.put("/api/v1/reports/subscriptions", headers=sup, json={"user_id": uid, "region": "D1S1",
                                                                         "kinds": []})
    assert r.status_code == 200
    async with app.sessionmaker() as s:
        assert ("D1S1", "daily") not in await published.subscribed_targets(s)


async def test_whole_deployment_monthly_report_ranks_the_districts(app, redis) -> None:
    """Region `*` (全域): every top-level region, its figures equal the unscoped statistics, the ranking is of
    the districts; only an account without a region subscribes to it or sees it."""
    c = app.client
    admin, sup = await app.as_("admin"), await app.as_("sup1")
    body = {"user_id": app.world.users["admin"], "region": "*", "kinds": ["monthly"]}
    r = await c.put("/api/v1/reports/subscriptions", headers=sup, json=body)
    assert r.status_code == 422 and "whole deployment" in r.json()["error"]["message"]
    r = await c.put("/api/v1/reports/subscriptions", headers=admin, json=body)
    assert r.status_code == 200, r.text
    got = await report_jobs.run_due(app.sessionmaker, redis, tz=TZ, now=NOW)
    assert len(got.ids) == 5  # D1's four and the whole deployment's monthly
    whole = next(x for x in (await c.get("/api/v1/reports", headers=admin)).json()["reports"]
                 if x["region_code"] == "*")
    assert whole["region_name"] == "全域" and whole["kind"] == "monthly" and whole["status"] == "released"
    assert all(x["region_code"] != "*" for x in (await c.get("/api/v1/reports", headers=sup)).json()["reports"])
    assert (await c.get(f"/api/v1/reports/{whole['id']}", headers=sup)).status_code == 404
    figures = (await c.get(f"/api/v1/reports/{whole['id']}", headers=admin)).json()["figures"]
    start = datetime.fromisoformat(figures["period"]["start"] + "T00:00:00+08:00")
    end = datetime.fromisoformat(figures["period"]["end"] + "T00:00:00+08:00")
    r = await c.get("/api/v1/stats", headers=admin, params={"from": start.isoformat(), "to": end.isoformat(),
                                                           "group": "region"})
    api = r.json()
    assert figures["total"]["received"] == api["total"]["received"] > 0
    assert {x["key"]: x["received"] for x in figures["by_region"]} == {x["key"]: x["received"] for x in api["rows"]}
    assert {x["key"] for x in figures["by_region"]} <= {"D1", "D2"}
    r = await c.get("/api/v1/assessment/scores", headers=admin,
                    params={"level": "district", "period": "month", "date": "2026-03-10"})
    assert r.status_code == 200, r.text
    assert figures["ranking"]["level"] == "district"
    assert [(x["unit"], x["score"]) for x in figures["ranking"]["rows"]] == [
        (x["unit"], x["score"]) for x in r.json()["rows"]]
    r = await c.get(f"/api/v1/reports/{whole['id']}/file", headers=admin)
    assert r.status_code == 200 and 'filename="monthly-all-2026-03-01.pdf"' in r.headers["content-disposition"]
    text_ = _text(r.content, "monthly-whole")
    assert "全域" in text_ and "月通报" in text_
    mine = (await c.get("/api/v1/notices/mine", headers=admin)).json()
    assert any(n["title"].startswith("全域月通报") for n in mine)
