"""Bad input to the dispatch endpoints: a clear 4xx, and nothing changes (database rows, Redis loads)."""

from __future__ import annotations

import pytest

from tests.dispatch_fixtures import counts, redis_loads
from tests.dispatch_world import alert
from tests.dispatch_world import dispatch_client as app_client

BAD_ALERTS = [
    ("lon out of range", alert(lon=200.0), 422),
    ("lat out of range", alert(lat=-91.0), 422),
    ("unknown category", alert(category="no-such-thing"), 422),
    ("inactive category", alert(category="retired"), 422),
    ("missing description", {k: v for k, v in alert().items() if k != "description"}, 422),
    ("missing coordinates", {k: v for k, v in alert().items() if k not in ("lon", "lat")}, 422),
    ("missing channel", {k: v for k, v in alert().items() if k != "channel"}, 422),
    ("blank description", alert(description="   "), 422),
    ("description too long", alert(description="字" * 2001), 422),
    ("unknown channel", alert(channel="pigeon"), 422),
    ("unknown crs", alert(crs="mars"), 422),
    ("priority out of range", alert(priority=9), 422),
    ("bad reporter phone", alert(reporter={"name": "张三", "phone": "call me"}), 422),
    ("unknown field", alert(colour="red"), 422),
    ("coordinates as text", alert(lon="east"), 422),
]


async def _unchanged(engine, redis, before) -> None:
    assert await counts(engine) == before[0]
    assert await redis_loads(redis) == before[1]


@pytest.mark.parametrize(("case", "body", "status"), BAD_ALERTS, ids=[c for c, _, _ in BAD_ALERTS])
async def test_bad_alert_is_refused_and_changes_nothing(world, dsettings, clean_db, redis, case, body, status):
    before = (await counts(clean_db), await redis_loads(redis))
    async with app_client(dsettings) as client:
        r = await client.post("/api/v1/alerts", json=body, headers=world.op.headers)
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == "invalid_input" and r.json()["error"]["message"]
    await _unchanged(clean_db, redis, before)


async def test_nan_and_malformed_json(world, dsettings, clean_db, redis) -> None:
    before = (await counts(clean_db), await redis_loads(redis))
    headers = {**world.op.headers, "content-type": "application/json"}
    async with app_client(dsettings) as client:
        nan = await client.post("/api/v1/alerts", headers=headers,
                                content=b'{"category":"noise","description":"x","lon":NaN,"lat":32,"channel":"app"}')
        broken = await client.post("/api/v1/alerts", headers=headers, content=b'{"category": ')
    assert nan.status_code == 422 and broken.status_code == 422
    await _unchanged(clean_db, redis, before)


async def test_oversize_body_is_413(world, dsettings, clean_db, redis) -> None:
    before = (await counts(clean_db), await redis_loads(redis))
    big = alert(description="x" * (dsettings.max_body_bytes + 10))
    async with app_client(dsettings) as client:
        r = await client.post("/api/v1/alerts", json=big, headers=world.op.headers)
    assert r.status_code == 413
    await _unchanged(clean_db, redis, before)


async def test_bad_idempotency_key_is_422(world, dsettings, clean_db, redis) -> None:
    before = (await counts(clean_db), await redis_loads(redis))
    async with app_client(dsettings) as client:
        long_key = await client.post("/api/v1/alerts", json=alert(),
                                     headers={**world.op.headers, "Idempotency-Key": "k" * 200})
        spaced = await client.post("/api/v1/alerts", json=alert(),
                                   headers={**world.op.headers, "Idempotency-Key": "has space"})
    assert long_key.status_code == 422 and spaced.status_code == 422
    await _unchanged(clean_db, redis, before)


async def test_who_may_post_alerts(world, dsettings, clean_db, redis) -> None:
    from command.core.db import make_sessionmaker
    from tests.dispatch_fixtures import add_user

    async with make_sessionmaker(clean_db)() as s, s.begin():
        liaison = await add_user(s, dsettings, username="liaison", role="liaison", department_code="police-sa")
    before = (await counts(clean_db), await redis_loads(redis))
    async with app_client(dsettings) as client:
        anonymous = await client.post("/api/v1/alerts", json=alert())
        forged = await client.post("/api/v1/alerts", json=alert(), headers={"Authorization": "Bearer x.y.z"})
        by_liaison = await client.post("/api/v1/alerts", json=alert(), headers=liaison.headers)
        worker_hotline = await client.post("/api/v1/alerts", json=alert(), headers=world.near.headers)
    assert (anonymous.status_code, forged.status_code) == (401, 401)
    assert by_liaison.status_code == 403 and worker_hotline.status_code == 403
    assert "patrol" in worker_hotline.json()["error"]["message"]
    await _unchanged(clean_db, redis, before)


async def test_bad_position_reports(world, dsettings, redis) -> None:
    from dispatch import keys

    before = await redis.geopos(keys.POSITIONS, str(world.near.worker_id))
    async with app_client(dsettings) as client:
        for body in ({"lon": 500, "lat": 32}, {"lon": 118.7, "lat": 89.0}, {"lon": 118.7},
                     {"positions": []}, {"positions": [{"lon": 118.7, "lat": 32.0}] * 501},
                     {"lon": 118.7, "lat": 32.0, "crs": "utm"},
                     {"lon": 118.7, "lat": 32.0, "ts": "2999-01-01T00:00:00Z"},
                     {"lon": 118.7, "lat": 32.0, "ts": "2026-01-01T00:00:00"}):
            r = await client.post("/api/v1/workers/me/position", json=body, headers=world.near.headers)
            assert r.status_code == 422, (body, r.text)
        by_operator = await client.post("/api/v1/workers/me/position", json={"lon": 118.7, "lat": 32.0},
                                        headers=world.op.headers)
        assert by_operator.status_code == 403
        bad_status = await client.post("/api/v1/workers/me/status", json={"status": "asleep"},
                                       headers=world.near.headers)
        assert bad_status.status_code == 422
    assert await redis.geopos(keys.POSITIONS, str(world.near.worker_id)) == before
    assert await redis.hget(keys.DUTY, str(world.near.worker_id)) == "available"


async def test_unknown_ids_are_404_and_bad_filters_422(world, dsettings) -> None:
    async with app_client(dsettings) as client:
        h = world.op.headers
        assert (await client.get("/api/v1/incidents/999999", headers=h)).status_code == 404
        assert (await client.get("/api/v1/orders/999999", headers=h)).status_code == 404
        assert (await client.post("/api/v1/orders/999999/accept", headers=world.near.headers)).status_code == 404
        assert (await client.post("/api/v1/incidents/999999/dispatch", json={"worker_id": 1},
                                  headers=h)).status_code == 404
        assert (await client.get("/api/v1/incidents", params={"status": "sleeping"}, headers=h)).status_code == 422
        assert (await client.get("/api/v1/incidents", params={"limit": 0}, headers=h)).status_code == 422
