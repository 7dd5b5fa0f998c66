"""Bugs that strict type checking (mypy, issue 13 item 12) pointed at, each reached from real input.

- A position time without a zone was converted as local time before it was refused: year 1 does not convert,
  and the report answered 500 instead of 422 (command/assign/workers.py).
- A worker account without its worker record scoped "own orders" as `worker_id IS NULL`: every department
  work order, so it could read incidents it has nothing to do with (command/orders/incidents.py).
- The 12345 outbox's back-off overflowed a float after 1,024 failed attempts (about a week of an unreachable
  platform at the default cap): the head report's transaction failed on every pass (command/intake/channels/outbox.py).
(A region file with a null ring is in tests/geo/test_geo_import_rejects.py.)"""

from __future__ import annotations

from command.core.db import make_sessionmaker
from command.intake.channels.outbox import backoff
from tests.dispatch_fixtures import add_user
from tests.dispatch_world import alert
from tests.dispatch_world import dispatch_client as app_client
from tests.environment import make_test_settings


async def test_position_time_without_zone_is_refused_even_when_it_cannot_be_read_as_local(
        world, dsettings, redis) -> None:
    from dispatch import keys

    before = await redis.geopos(keys.POSITIONS, str(world.near.worker_id))
    async with app_client(dsettings) as client:
        for ts in ("0001-01-01T00:00:00", "9999-12-31T23:59:59"):
            for body in ({"lon": 118.7, "lat": 32.0, "ts": ts},
                         {"positions": [{"lon": 118.7, "lat": 32.0, "ts": ts}]}):
                r = await client.post("/api/v1/workers/me/position", json=body, headers=world.near.headers)
                assert r.status_code == 422, (body, r.text)
                error = r.json()["error"]
                assert "timezone" in error["message"] or "1970" in str(error.get("details"))
    assert await redis.geopos(keys.POSITIONS, str(world.near.worker_id)) == before


async def test_worker_account_without_worker_record_sees_no_incident(world, dsettings, clean_db) -> None:
    async with make_sessionmaker(clean_db)() as s, s.begin():
        orphan = await add_user(s, dsettings, username="no-record", role="worker")
    assert orphan.principal.worker_id is None
    async with app_client(dsettings) as client:
        dispute = (await client.post("/api/v1/alerts", json=alert(), headers=world.op.headers)).json()
        assert "department" in {o["assignee_kind"] for o in dispute["orders"]}  # an order no worker holds
        r = await client.get(f"/api/v1/incidents/{dispute['id']}", headers=orphan.headers)
        assert r.status_code == 404, r.text
        # The worker who holds its order still sees it.
        assert (await client.get(f"/api/v1/incidents/{dispute['id']}", headers=world.near.headers)).status_code == 200


def test_outbox_backoff_stays_capped_after_any_number_of_failures() -> None:
    settings = make_test_settings(hotline_retry_base_s=2.0, hotline_retry_max_s=600.0)
    for attempts in (1, 2, 10, 1_000, 1_024, 1_025, 5_000, 10**6):
        delay = backoff(settings, attempts)
        assert 0 < delay <= 600.0 * 1.1, (attempts, delay)
    assert 1.8 <= backoff(settings, 1) <= 2.2
    assert 540.0 <= backoff(settings, 10**6) <= 660.0
