"""Petitions (信访, issue 15 item 5) over tests.loop_world: op1 is petition staff of D1, sup1 a petition leader of
D1; op1b an operator of D1 without petition duty; op2 petition staff of D2. A petition runs register → 受理告知 →
领导包案 → extension → 答复 → 不满意 → 复查, with every deadline in working days across National Day 2026 (official
schedule, 国办发明电〔2025〕7号: 1–7 October off, Saturday 10 October worked)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from command.core.models import Deadline, Event, Incident, ReporterView, User
from tests import loop_world as w
from tests.environment import make_test_settings

pytestmark = pytest.mark.timeout(120)
CST = timezone(timedelta(hours=8))


def end_of(day: str) -> str:
    return datetime.fromisoformat(f"{day}T23:59:59+08:00").astimezone(UTC).isoformat()


@pytest.fixture
async def app(clean_db: AsyncEngine, redis):
    async with w.loop_app(clean_db, make_test_settings()) as app:
        async with app.sessionmaker() as s, s.begin():
            op1b = User(username="op1b", display_name="op1b的名字", role="operator", region_code="D1",
                        password_hash=w._password_hash())
            s.add(op1b)
            await s.flush()
            app.world.users["op1b"] = op1b.id
            await s.execute(update(User).where(User.username.in_(["op1", "op2"])).values(petition_role="staff"))
            await s.execute(update(User).where(User.username.in_(["sup1", "sup2"])).values(petition_role="leader"))
        yield app


class Clock:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = datetime.now(UTC)
        monkeypatch.setattr("command.orders.petitions.utcnow", lambda: self.now)

    def at(self, local: str) -> None:
        self.now = datetime.fromisoformat(local).replace(tzinfo=CST).astimezone(UTC)


BODY = {"description": "反映小区违建遮挡采光，多次投诉未果", "lon": 120.05, "lat": 30.05, "form": "visit",
        "petitioner": {"name": "王信访", "phone": "13900001111"}}


async def _register(app, clock: Clock, **extra) -> dict:
    clock.at("2026-09-29T10:00:00")
    r = await app.client.post("/api/v1/petitions", headers=await app.as_("op1"), json={**BODY, **extra})
    assert r.status_code == 201, r.text
    return r.json()


async def test_a_petition_runs_its_legal_steps_in_working_days(app, monkeypatch) -> None:
    c, clock = app.client, Clock(monkeypatch)
    op1, sup1 = await app.as_("op1"), await app.as_("sup1")
    # Received by letter on Tuesday 29 September 2026: the limits count from that day, over National Day.
    p = await _register(app, clock, form="letter", received_at="2026-09-29T10:00:00+08:00")
    pid = p["incident_id"]
    assert (p["state"], p["form"], p["petitioner"]["name"]) == ("registered", "letter", "王信访")
    assert p["notice_due_at"] == end_of("2026-10-09")  # 30 Sep, 8 Oct, 9 Oct
    assert p["reply_due_at"] == end_of("2026-10-26")  # 15 working days, Saturday 10 October counted
    async with app.sessionmaker() as s:
        incident = await s.get(Incident, pid)
        assert (incident.channel, incident.category_code) == ("petition", "petition")
        assert incident.respond_due_at.isoformat() == p["notice_due_at"]
        assert incident.resolve_due_at.isoformat() == p["reply_due_at"]
        open_dues = {d.kind: d.due_at.isoformat() for d in await s.scalars(
            select(Deadline).where(Deadline.incident_id == pid, Deadline.met_at.is_(None)))}
    assert open_dues["respond"] == p["notice_due_at"] and open_dues["resolve"] == p["reply_due_at"]

    # A reply before the acceptance notice is refused and changes nothing.
    early = await c.post(f"/api/v1/petitions/{pid}/reply", headers=op1, json={"text": "答复"})
    assert early.status_code == 409 and early.json()["error"]["code"] == "conflict"

    clock.at("2026-10-08T09:00:00")
    n = await c.post(f"/api/v1/petitions/{pid}/notice", headers=op1, json={"text": "您的信访事项已受理。"})
    assert n.status_code == 200, n.text
    assert (n.json()["state"], n.json()["noticed_at"]) == ("noticed", clock.now.isoformat())

    leaders = (await c.get("/api/v1/petitions/leaders", headers=op1)).json()
    sup1_id = app.world.users["sup1"]
    assert {x["username"] for x in leaders} == {"sup1", "sup2"}
    bad = await c.post(f"/api/v1/petitions/{pid}/leader", headers=op1, json={"leader_user_id": app.world.users["op1b"]})
    assert bad.status_code == 422
    other = await c.post(f"/api/v1/petitions/{pid}/leader", headers=op1,
                         json={"leader_user_id": app.world.users["sup2"]})
    assert other.status_code == 422  # D2's leader does not serve D1
    led = await c.post(f"/api/v1/petitions/{pid}/leader", headers=op1, json={"leader_user_id": sup1_id})
    assert led.status_code == 200 and led.json()["leader"] == "sup1的名字"

    # The leader's own queue (领导包案), with the petitioner.
    queue = (await c.get("/api/v1/petitions?mine=true", headers=sup1)).json()
    assert [(q["incident_id"], q["petitioner"]["name"]) for q in queue] == [(pid, "王信访")]
    assert (await c.get("/api/v1/petitions?mine=true", headers=await app.as_("sup2"))).json() == []

    # One extension, with a reason, by the leader: 5 working days after 26 October.
    too_long = await c.post(f"/api/v1/petitions/{pid}/extend", headers=sup1, json={"workdays": 40, "reason": "x"})
    assert too_long.status_code == 422
    ext = await c.post(f"/api/v1/petitions/{pid}/extend", headers=sup1,
                       json={"workdays": 5, "reason": "需现场测绘，等待规划部门意见"})
    assert ext.status_code == 200, ext.text
    assert (ext.json()["reply_due_at"], ext.json()["extension_workdays"]) == (end_of("2026-11-02"), 5)
    again = await c.post(f"/api/v1/petitions/{pid}/extend", headers=sup1, json={"workdays": 1, "reason": "再延"})
    assert again.status_code == 409
    async with app.sessionmaker() as s:
        assert (await s.get(Incident, pid)).resolve_due_at.isoformat() == end_of("2026-11-02")

    clock.at("2026-10-30T16:00:00")
    rep = await c.post(f"/api/v1/petitions/{pid}/reply", headers=sup1, json={"text": "经核查，违建已责令限期拆除。"})
    assert rep.status_code == 200 and rep.json()["state"] == "replied"

    no_reason = await c.post(f"/api/v1/petitions/{pid}/answer", headers=op1, json={"satisfied": False})
    assert no_reason.status_code == 422
    assert (await c.post(f"/api/v1/petitions/{pid}/answer", headers=sup1,
                         json={"satisfied": False, "reason": "x"})).status_code == 403  # staff record it
    clock.at("2026-11-02T11:00:00")
    ans = await c.post(f"/api/v1/petitions/{pid}/answer", headers=op1,
                       json={"satisfied": False, "reason": "拆除期限过长，要求复查"})
    assert ans.status_code == 200, ans.text
    assert (ans.json()["state"], ans.json()["satisfied"]) == ("reviewing", False)
    assert ans.json()["review_due_at"] == end_of("2026-11-23")  # 15 working days from 2 November

    clock.at("2026-11-20T10:00:00")
    rev = await c.post(f"/api/v1/petitions/{pid}/reply", headers=op1, json={"text": "复查意见：维持原答复，限期缩短。"})
    assert rev.status_code == 200 and rev.json()["state"] == "closed"
    assert rev.json()["review_text"].startswith("复查意见")
    async with app.sessionmaker() as s:
        kinds = [e.kind for e in await s.scalars(select(Event).where(
            Event.incident_id == pid, Event.kind.like("petition.%")).order_by(Event.id))]
        actors = {e.kind: e.actor for e in await s.scalars(select(Event).where(Event.incident_id == pid))}
        still_open = list(await s.scalars(select(Deadline).where(Deadline.incident_id == pid,
                                                                 Deadline.met_at.is_(None))))
    assert kinds == ["petition.registered", "petition.noticed", "petition.leader", "petition.extended",
                     "petition.replied", "petition.answered", "petition.reviewed"]
    assert (actors["petition.extended"], actors["petition.reviewed"]) == ("sup1", "op1")
    assert still_open == []  # every step met its incident deadline: the scheduler has nothing to chase


async def test_the_petitioner_is_seen_only_by_petition_staff_and_the_leader(app, monkeypatch) -> None:
    c, clock = app.client, Clock(monkeypatch)
    pid = (await _register(app, clock))["incident_id"]

    async def reporter(user: str) -> dict | None:
        r = await c.get(f"/api/v1/incidents/{pid}", headers=await app.as_(user))
        assert r.status_code == 200, r.text
        return r.json().get("reporter")

    assert await reporter("op1") == {"name": "王信访", "phone": "13900001111"}
    assert await reporter("op1b") is None  # an operator without petition duty
    assert await reporter("sup1") is None  # a leader, not (yet) this case's
    assert await reporter("admin") is not None
    await c.post(f"/api/v1/petitions/{pid}/leader", headers=await app.as_("op1"),
                 json={"leader_user_id": app.world.users["sup1"]})
    assert (await reporter("sup1"))["name"] == "王信访"
    # The petition reads: staff of another region do not find it; others may not read petitions at all.
    assert (await c.get(f"/api/v1/petitions/{pid}", headers=await app.as_("op2"))).status_code == 404
    assert (await c.get(f"/api/v1/petitions/{pid}", headers=await app.as_("op1b"))).status_code == 403
    assert (await c.get("/api/v1/petitions", headers=await app.as_("op1b"))).status_code == 403
    assert (await c.get("/api/v1/petitions", headers=await app.as_("op2"))).json() == []
    assert (await c.get("/api/v1/petitions", headers=await app.as_("w1"))).status_code == 403
    # A socket frame is built from the event log: no event carries the petitioner.
    async with app.sessionmaker() as s:
        payloads = [str(e.payload) + str(e.reason) for e in await s.scalars(select(Event).where(
            Event.incident_id == pid))]
        views = [(v.username, v.via) for v in await s.scalars(select(ReporterView).order_by(ReporterView.id))]
    assert payloads and not any("王信访" in p or "13900001111" in p for p in payloads)
    assert ("op1", "incident_detail") in views and ("sup1", "incident_detail") in views
    assert not any(u == "op1b" for u, _ in views)
    # Repeat callers (the same phone again and again) leave petitions out, even masked.
    for _ in range(2):
        await c.post("/api/v1/petitions", headers=await app.as_("op1"), json=BODY)
    today = datetime.now(CST).date().isoformat()
    hot = await c.get("/api/v1/hotspots/repeats", params={"date": today, "min_count": 2},
                      headers=await app.as_("sup1"))
    assert hot.status_code == 200, hot.text
    assert hot.json()["callers"] == []


async def test_registering_is_for_petition_staff_and_checks_its_input(app, monkeypatch) -> None:
    c = app.client
    assert (await c.post("/api/v1/petitions", headers=await app.as_("op1b"), json=BODY)).status_code == 403
    future = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    r = await c.post("/api/v1/petitions", headers=await app.as_("op1"), json={**BODY, "received_at": future})
    assert r.status_code == 422 and r.json()["error"]["code"]
    r = await c.post("/api/v1/petitions", headers=await app.as_("op1"), json={**BODY, "form": "fax"})
    assert r.status_code == 422
    r = await c.post("/api/v1/petitions", headers=await app.as_("op1"), json={**BODY, "category": "road"})
    assert r.status_code == 422
    # The alerts route cannot claim the petition channel.
    r = await c.post("/api/v1/alerts", headers=await app.as_("op1"), json={
        "channel": "petition", "category": "petition", "description": "x", "lon": 120.05, "lat": 30.05})
    assert r.status_code == 422
    async with app.sessionmaker() as s:
        assert await s.scalar(select(Incident.id).limit(1)) is None
    # An admin gives and takes the petition duty; a leader must be a supervisor.
    admin = await app.as_("admin")
    op1b = app.world.users["op1b"]
    bad = await c.patch(f"/api/v1/admin/users/{op1b}", headers=admin, json={"petition_role": "leader"})
    assert bad.status_code == 422
    ok = await c.patch(f"/api/v1/admin/users/{op1b}", headers=admin, json={"petition_role": "staff"})
    assert ok.status_code == 200 and ok.json()["petition_role"] == "staff"
    assert (await c.get("/api/v1/petitions", headers=await app.as_("op1b"))).status_code == 200
