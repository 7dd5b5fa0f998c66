"""The contact book and notices with read receipts (issue 15 item 7), over tests.loop_world: op1 operates D1, op2
D2; w1 is a grid worker of D1S1C1G1; water is the liaison of water_co (serving D1)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from command.core.models import Event, Notice, NoticeRecipient
from tests import loop_world as w
from tests.environment import make_test_settings

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
async def app(clean_db: AsyncEngine, redis):
    async with w.loop_app(clean_db, make_test_settings()) as app:
        yield app


async def _count(app, model, *where) -> int:
    async with app.sessionmaker() as s:
        return await s.scalar(select(func.count()).select_from(model).where(*where))


async def test_contact_book_is_scoped_and_searchable(app) -> None:
    c = app.client
    book = (await c.get("/api/v1/contacts", headers=await app.as_("op1"))).json()
    assert [x["name"] for x in book["workers"]] == ["网格员甲"]
    assert {d["code"] for d in book["departments"]} == {"water_co", "power_co", "roads_bureau", "police_d1"}
    assert {li["department_code"] for li in book["liaisons"]} >= {"water_co", "power_co"}
    found = (await c.get("/api/v1/contacts", params={"q": "自来水"}, headers=await app.as_("op1"))).json()
    assert [d["code"] for d in found["departments"]] == ["water_co"] and found["workers"] == []
    only = (await c.get("/api/v1/contacts", params={"kind": "worker"}, headers=await app.as_("op1"))).json()
    assert only["departments"] == [] and len(only["workers"]) == 1
    # D2's operator: nothing of D1.
    other = (await c.get("/api/v1/contacts", headers=await app.as_("op2"))).json()
    assert other == {"workers": [], "departments": [], "liaisons": []}
    assert (await c.get("/api/v1/contacts", headers=await app.as_("w1"))).status_code == 403
    bad = await c.get("/api/v1/contacts", params={"kind": "mayor"}, headers=await app.as_("op1"))
    assert bad.status_code == 422 and bad.json()["error"]["code"]


async def test_notice_reaches_workers_and_liaisons_and_receipts_follow(app) -> None:
    c, op1 = app.client, await app.as_("op1")
    sent = await c.post("/api/v1/notices", headers=op1, json={
        "title": "防汛通知", "body": "今晚暴雨，请各网格员加强巡查。", "priority": 1,
        "workers": [app.world.worker_id], "departments": ["water_co"]})
    assert sent.status_code == 201, sent.text
    notice = sent.json()
    assert (notice["total"], notice["read"]) == (2, 0)
    # One push per worker (routed by worker id) and per department (by department code).
    async with app.sessionmaker() as s:
        pushes = (await s.execute(select(Event.worker_id, Event.department_code).where(
            Event.kind == "notice.sent"))).all()
    assert sorted(pushes, key=str) == sorted([(app.world.worker_id, None), (None, "water_co")], key=str)

    for user in ("w1", "water"):
        mine = (await c.get("/api/v1/notices/mine?unread=true", headers=await app.as_(user))).json()
        assert [(n["id"], n["title"], n["read_at"]) for n in mine] == [(notice["id"], "防汛通知", None)]
    first = await c.post(f"/api/v1/notices/{notice['id']}/read", headers=await app.as_("w1"))
    assert first.status_code == 200, first.text
    again = await c.post(f"/api/v1/notices/{notice['id']}/read", headers=await app.as_("w1"))
    assert again.json()["read_at"] == first.json()["read_at"]
    assert await _count(app, Event, Event.kind == "notice.read") == 1
    async with app.sessionmaker() as s:
        read_event = await s.scalar(select(Event).where(Event.kind == "notice.read"))
    assert read_event.region_path == ["D1"] and read_event.worker_id is None
    assert read_event.payload["name"] == "w1的名字"
    assert (await c.get("/api/v1/notices/mine?unread=true", headers=await app.as_("w1"))).json() == []

    receipts = (await c.get(f"/api/v1/notices/{notice['id']}", headers=op1)).json()
    assert (receipts["read"], receipts["total"]) == (1, 2)
    assert [(r["username"], r["read_at"] is not None) for r in receipts["recipients"]] == [
        ("water", False), ("w1", True)]
    listed = (await c.get("/api/v1/notices/sent", headers=op1)).json()
    assert [(n["id"], n["read"], n["total"]) for n in listed] == [(notice["id"], 1, 2)]
    # Another district's operator sees neither the receipts nor the notice in their list.
    assert (await c.get(f"/api/v1/notices/{notice['id']}", headers=await app.as_("op2"))).status_code == 403
    assert (await c.get("/api/v1/notices/sent", headers=await app.as_("op2"))).json() == []


async def test_a_region_reaches_the_workers_of_its_grids(app) -> None:
    r = await app.client.post("/api/v1/notices", headers=await app.as_("op1"), json={
        "title": "例会", "body": "明早八点例会", "regions": ["D1S1"]})
    assert r.status_code == 201, r.text
    assert [x["username"] for x in r.json()["recipients"]] == ["w1"]


@pytest.mark.parametrize(("user", "body", "status"), [
    ("op2", {"workers": "W1"}, 422),  # a worker outside the sender's region
    ("op1", {"departments": ["nope"]}, 422),
    ("op2", {"regions": ["D1S1"]}, 422),
    ("op1", {"regions": ["D1S2"]}, 422),  # a region without workers: reaches nobody
    ("op1", {}, 422),
    ("op1", {"workers": "W1", "title": "  "}, 422),
    ("op1", {"workers": "W1", "priority": 9}, 422),
    ("op1", {"workers": "W1", "extra": 1}, 422),
    ("w1", {"workers": "W1"}, 403),
    ("water", {"departments": ["water_co"]}, 403),
])
async def test_a_refused_notice_changes_nothing(app, user: str, body: dict, status: int) -> None:
    if body.get("workers") == "W1":
        body["workers"] = [app.world.worker_id]
    r = await app.client.post("/api/v1/notices", headers=await app.as_(user),
                              json={"title": "通知", "body": "内容"} | body)
    assert r.status_code == status, r.text
    assert r.json()["error"]["message"]
    assert await _count(app, Notice) == 0 and await _count(app, NoticeRecipient) == 0
    assert await _count(app, Event, Event.kind.like("notice.%")) == 0


async def test_reading_a_notice_not_sent_to_you_is_404(app) -> None:
    c = app.client
    sent = (await c.post("/api/v1/notices", headers=await app.as_("op1"), json={
        "title": "t", "body": "b", "departments": ["water_co"]})).json()
    assert (await c.post(f"/api/v1/notices/{sent['id']}/read", headers=await app.as_("w1"))).status_code == 404
    assert (await c.post("/api/v1/notices/999/read", headers=await app.as_("water"))).status_code == 404
    assert (await c.post(f"/api/v1/notices/{sent['id']}/read", headers=await app.as_("op1"))).status_code == 403
    assert (await c.get("/api/v1/notices/999", headers=await app.as_("op1"))).status_code == 404
    assert await _count(app, NoticeRecipient, NoticeRecipient.read_at.is_not(None)) == 0
