"""Scope: a worker sees and acts only on their own orders, a liaison on their department's, an operator
within their region. What a caller may not touch stays exactly as it was."""

from __future__ import annotations

from sqlalchemy import select

from command.core.db import make_sessionmaker
from command.core.models import Order
from tests.dispatch_fixtures import add_user
from tests.dispatch_world import alert
from tests.dispatch_world import dispatch_client as app_client


async def _statuses(engine) -> dict[int, str]:
    async with make_sessionmaker(engine)() as s:
        return {o.id: o.status for o in await s.scalars(select(Order))}


async def test_worker_cannot_see_or_act_on_anothers_order(world, dsettings, clean_db, redis) -> None:
    async with app_client(dsettings) as client:
        inc = (await client.post("/api/v1/alerts", json=alert(category="noise"), headers=world.op.headers)).json()
        [order] = inc["orders"]
        assert order["worker_id"] == world.near.worker_id
        before = await _statuses(clean_db)
        other = world.mid.headers
        assert (await client.get(f"/api/v1/orders/{order['id']}", headers=other)).status_code == 404
        assert (await client.get(f"/api/v1/incidents/{inc['id']}", headers=other)).status_code == 404
        for action, body in (("accept", None), ("decline", {"reason": "不是我的"}), ("resolve", {"note": "x"})):
            r = await client.post(f"/api/v1/orders/{order['id']}/{action}", json=body, headers=other)
            assert r.status_code == 404, (action, r.text)
        assert (await client.get("/api/v1/workers/me/orders", headers=other)).json()["items"] == []
        assert (await client.get("/api/v1/incidents", headers=other)).status_code == 403
        assert (await client.get("/api/v1/workers", headers=other)).status_code == 403
        # The owner does see it.
        assert (await client.get(f"/api/v1/orders/{order['id']}", headers=world.near.headers)).status_code == 200
    assert await _statuses(clean_db) == before


async def test_each_worker_sees_only_their_own_order_of_a_shared_incident(world, dsettings) -> None:
    """fire in street SB wants two workers: each sees the incident but only their own order."""
    async with app_client(dsettings) as client:
        inc = (await client.post("/api/v1/alerts", json=alert((2.2, 3.0), category="fire"),
                                 headers=world.op.headers)).json()
        workers = {o["worker_id"]: o["id"] for o in inc["orders"] if o["assignee_kind"] == "worker"}
        assert len(workers) == 2
        everyone = {w.worker_id: w for w in (world.near, world.mid, world.far, world.grid)}
        for wid, oid in workers.items():
            detail = (await client.get(f"/api/v1/incidents/{inc['id']}", headers=everyone[wid].headers)).json()
            assert [o["id"] for o in detail["orders"]] == [oid]
            assert {e["order_id"] for e in detail["events"]} <= {None, oid}


async def test_liaison_sees_only_their_departments_orders(world, dsettings, clean_db) -> None:
    async with make_sessionmaker(clean_db)() as s, s.begin():
        police = await add_user(s, dsettings, username="police", role="liaison", department_code="police-sa")
        fire = await add_user(s, dsettings, username="fire", role="liaison", department_code="fire-d")
    async with app_client(dsettings) as client:
        dispute = (await client.post("/api/v1/alerts", json=alert(), headers=world.op.headers)).json()
        blaze = (await client.post("/api/v1/alerts", json=alert((1.0, 2.0), category="fire"),
                                   headers=world.op.headers)).json()
        listed = (await client.get("/api/v1/incidents", headers=police.headers)).json()["items"]
        assert [i["id"] for i in listed] == [dispute["id"]]
        detail = (await client.get(f"/api/v1/incidents/{dispute['id']}", headers=police.headers)).json()
        assert [(o["assignee_kind"], o["department_code"]) for o in detail["orders"]] == [("department", "police-sa")]
        assert (await client.get(f"/api/v1/incidents/{blaze['id']}", headers=police.headers)).status_code == 404
        assert [i["id"] for i in (await client.get("/api/v1/incidents", headers=fire.headers)).json()["items"]] == [
            blaze["id"]]
        worker_order = next(o for o in dispute["orders"] if o["assignee_kind"] == "worker")
        dept_order = next(o for o in dispute["orders"] if o["assignee_kind"] == "department")
        before = await _statuses(clean_db)
        assert (await client.post(f"/api/v1/orders/{worker_order['id']}/accept",
                                  headers=police.headers)).status_code == 404
        assert (await client.post(f"/api/v1/orders/{dept_order['id']}/accept",
                                  headers=fire.headers)).status_code == 404
        assert (await client.get(f"/api/v1/orders/{dept_order['id']}", headers=fire.headers)).status_code == 404
        assert await _statuses(clean_db) == before
        # Their own department's order: signing for it (签收) puts the incident in progress.
        signed = await client.post(f"/api/v1/orders/{dept_order['id']}/accept", headers=police.headers)
        assert signed.status_code == 200 and signed.json()["order"]["status"] == "signed_for"


async def test_operator_sees_only_their_region(world, dsettings, clean_db, redis) -> None:
    async with make_sessionmaker(clean_db)() as s, s.begin():
        sb_op = await add_user(s, dsettings, username="op-sb", role="operator", region_code="SB")
        sa_op = await add_user(s, dsettings, username="op-sa", role="operator", region_code="SA")
    async with app_client(dsettings) as client:
        in_sa = (await client.post("/api/v1/alerts", json=alert(category="noise"), headers=world.op.headers)).json()
        in_sb = (await client.post("/api/v1/alerts", json=alert((2.5, 2.5), category="noise"),
                                   headers=world.op.headers)).json()
        assert [i["id"] for i in (await client.get("/api/v1/incidents", headers=sb_op.headers)).json()["items"]] == [
            in_sb["id"]]
        everything = (await client.get("/api/v1/incidents", headers=world.op.headers)).json()["items"]
        assert {i["id"] for i in everything} == {in_sa["id"], in_sb["id"]}
        before = await _statuses(clean_db)
        url = f"/api/v1/incidents/{in_sa['id']}"
        assert (await client.get(url, headers=sb_op.headers)).status_code == 403
        assert (await client.get(f"{url}/candidates", headers=sb_op.headers)).status_code == 403
        r = await client.post(f"{url}/dispatch", json={"worker_id": world.far.worker_id}, headers=sb_op.headers)
        assert r.status_code == 403
        assert await _statuses(clean_db) == before
        order_id = in_sa["orders"][0]["id"]
        assert (await client.get(f"/api/v1/orders/{order_id}", headers=sb_op.headers)).status_code == 403
        # Worker list: SA's operator sees the workers serving grids in SA; the city sees everyone.
        sa_list = (await client.get("/api/v1/workers", headers=sa_op.headers)).json()["items"]
        assert [w["id"] for w in sa_list] == [world.grid.worker_id]
        assert sa_list[0]["name"] == "王*" and sa_list[0]["availability"] == "available"
        assert sa_list[0]["lon"] is not None and sa_list[0]["present"] is True
        city = (await client.get("/api/v1/workers", headers=world.op.headers)).json()["items"]
        assert len(city) == 4 and sum(w["load"] for w in city) == 2
        assert (await client.get("/api/v1/workers", params={"region": "SB"}, headers=sa_op.headers)).json()[
            "items"] == []
