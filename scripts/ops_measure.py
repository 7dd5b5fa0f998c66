"""The figures of docs/operations.md on the database of DATABASE_URL: the cost of one /metrics reading of
PostgreSQL and Redis, and of one retention batch (run in a transaction that is rolled back: nothing changes).

    .venv/bin/python scripts/ops_measure.py [--reporter-days N]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from command.core.db import make_engine, make_sessionmaker
from command.core.redis_client import make_redis
from command.core.settings import Settings
from command.ops import retention
from command.ops.metrics_state import read_state


async def main(reporter_days: int) -> None:
    settings = Settings().model_copy(update={"retain_reporter_days": reporter_days})
    engine, redis = make_engine(settings), make_redis(settings)
    try:
        readings = []
        for _ in range(7):
            state = await read_state(engine, redis, presence_ttl_s=settings.presence_ttl_s, timeout_s=30)
            readings.append(state.read_s * 1000)
        print(f"metrics reading: {sum(state.incidents_by_state.values())} open incidents, median "
              f"{statistics.median(readings):.1f} ms (min {min(readings):.1f}, max {max(readings):.1f}) over 7")
        for _ in range(3):
            async with make_sessionmaker(engine)() as session:
                started = time.perf_counter()
                done = await retention._reporters(session, settings)
                took = time.perf_counter() - started
                await session.rollback()
            print(f"retention batch: {done.incidents} incidents, {done.events} events in {took:.2f} s (rolled back)")
    finally:
        await redis.aclose()
        await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--reporter-days", type=int, default=180)
    asyncio.run(main(parser.parse_args().reporter_days))
