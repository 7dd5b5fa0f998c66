"""No free database connection within GRIDCMD_DB_POOL_TIMEOUT_S: a 503 with the JSON error body, nothing written."""

from __future__ import annotations

from sqlalchemy import text

from tests.dispatch_fixtures import counts, redis_loads
from tests.dispatch_world import alert, build_world
from tests.dispatch_world import dispatch_client as app_client
from tests.environment import make_test_settings
from web.errors import POOL_TIMEOUT_MESSAGE


async def test_alert_answers_503_when_the_pool_is_exhausted(clean_db, redis) -> None:
    settings = make_test_settings(dispatch_background=False, db_pool_size=1, db_pool_timeout_s=0.2)
    world = await build_world(clean_db, redis, settings)
    before = await counts(clean_db)
    async with app_client(settings) as client:
        engine = client.app.state.engine  # type: ignore[attr-defined]
        async with engine.connect() as held:  # the pool's only connection, kept by the test
            await held.execute(text("SELECT 1"))
            r = await client.post("/api/v1/alerts", json=alert(), headers=world.op.headers)
        assert r.status_code == 503, r.text
        assert r.json() == {"error": {"code": "unavailable", "message": POOL_TIMEOUT_MESSAGE}}
        assert await counts(clean_db) == before
        assert await redis_loads(redis) == {}  # no worker claimed
        # Control: the same request once the connection is back in the pool.
        ok = await client.post("/api/v1/alerts", json=alert(), headers=world.op.headers)
    assert ok.status_code == 201, ok.text
    assert (await counts(clean_db))[0] == before[0] + 1
