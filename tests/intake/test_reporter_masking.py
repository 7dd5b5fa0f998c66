"""The reporter's name and phone (for a call-back) reach operators, supervisors and admins in the incident
detail, and nobody else (PIPL): not a worker's or a liaison's views, not the wall's board or the lists."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests import loop_world as w
from tests.environment import make_test_settings

pytestmark = pytest.mark.timeout(120)
NAME, PHONE = "李女士", "13912345678"


@pytest.fixture
async def app(clean_db: AsyncEngine):
    async with w.loop_app(clean_db, make_test_settings()) as app:
        async with app.sessionmaker() as s, s.begin():
            inc = await w.incident(s, status="dispatched", reporter_name=NAME, reporter_phone=PHONE)
            worker_order = await w.order(s, inc, worker_id=app.world.worker_id)
            dept_order = await w.order(s, inc, department="water_co", role="support")
        app.ids = {"incident": inc.id, "worker_order": worker_order.id, "dept_order": dept_order.id}
        yield app


@pytest.mark.parametrize("user", ["op1", "sup1", "admin"])
async def test_operators_see_the_reporter(app, user: str) -> None:
    r = await app.client.get(f"/api/v1/incidents/{app.ids['incident']}", headers=await app.as_(user))
    assert r.status_code == 200, r.text
    assert r.json()["reporter"] == {"name": NAME, "phone": PHONE}


async def test_incident_without_reporter_has_empty_fields(app) -> None:
    async with app.sessionmaker() as s, s.begin():
        inc = await w.incident(s)
    r = await app.client.get(f"/api/v1/incidents/{inc.id}", headers=await app.as_("op1"))
    assert r.json()["reporter"] == {"name": None, "phone": None}


@pytest.mark.parametrize(("user", "path"), [
    ("w1", "/api/v1/incidents/{incident}"),  # the worker's own view of the incident
    ("w1", "/api/v1/orders/{worker_order}"),  # the worker's order view
    ("w1", "/api/v1/workers/me/orders"),
    ("water", "/api/v1/incidents/{incident}"),  # a department liaison
    ("water", "/api/v1/orders/{dept_order}"),
    ("water", "/api/v1/dept/orders"),
    ("op1", "/api/v1/screen/board"),  # the wall display
    ("op1", "/api/v1/incidents"),  # lists carry summaries only
    ("op1", "/api/v1/orders/{worker_order}"),
])
async def test_others_never_get_the_phone(app, user: str, path: str) -> None:
    r = await app.client.get(path.format(**app.ids), headers=await app.as_(user))
    assert r.status_code == 200, r.text
    text = json.dumps(r.json(), ensure_ascii=False)
    assert str(app.ids["incident"]) in text  # the incident is there…
    assert PHONE not in text and NAME not in text and '"reporter"' not in text  # …its reporter is not
