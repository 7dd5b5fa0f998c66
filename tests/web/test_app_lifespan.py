"""The app's process-wide setup around its lifespan."""

from __future__ import annotations

import gc

from tests.helpers import app_client


async def test_startup_objects_frozen_out_of_the_collector_while_the_app_runs(settings, redis) -> None:
    async with app_client(settings) as client:
        assert gc.get_freeze_count() > 10_000
        assert (await client.get("/api/v1/auth/me")).status_code == 401  # serving as usual
    assert gc.get_freeze_count() == 0
