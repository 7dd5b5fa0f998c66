"""`python -m bench.tracks_write`: how fast worker tracks are persisted (command/assign/tracks.py) — rows per
second through the buffer and one COPY per flush interval, and what the buffer adds to one position report.

Writes `--rows` positions for `--workers` workers (one report per 30 s each, as the province profile) in batches
of `--batch` (what one web process buffers in a one-second interval at that rate) into the database of
DATABASE_URL, then deletes them. Prints JSON. Not part of `python -m bench`'s phases: the both-phases dispatch
comparison of issue 16 is not built (docs/assessment.md)."""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from command.assign.tracks import TrackBuffer, write_rows
from command.core.db import make_engine, make_sessionmaker
from command.core.settings import Settings


async def main(rows: int, workers: int, batch: int) -> dict[str, float]:
    settings = Settings()
    engine = make_engine(settings)
    sm = make_sessionmaker(engine)
    buf = TrackBuffer(max_rows=rows)
    base = datetime(2031, 6, 1, tzinfo=UTC).timestamp()  # a day nothing else writes
    t0 = time.perf_counter()
    for n in range(rows):
        w = n % workers
        buf.add(1_000_000 + w, [(118.7 + w * 1e-5, 32.0 + (n // workers) * 1e-5, base + (n // workers) * 30)], now=base)
    add_us = (time.perf_counter() - t0) / rows * 1e6
    all_rows = buf.take()
    times = []
    started = time.perf_counter()
    for i in range(0, len(all_rows), batch):
        s = time.perf_counter()
        async with sm() as session, session.begin():
            await write_rows(session, all_rows[i:i + batch])
        times.append(time.perf_counter() - s)
    elapsed = time.perf_counter() - started
    async with sm() as session, session.begin():
        lo = datetime.fromtimestamp(base, UTC) - timedelta(days=1)
        await session.execute(text("DELETE FROM worker_positions WHERE ts >= :lo AND worker_id >= 1000000"),
                              {"lo": lo})
    await engine.dispose()
    times.sort()
    return {"rows": rows, "batch": batch, "rows_per_s": round(rows / elapsed), "batch_p50_ms":
            round(statistics.median(times) * 1000, 1), "batch_max_ms": round(times[-1] * 1000, 1),
            "buffer_add_us_per_report": round(add_us, 2)}


if __name__ == "__main__":
    p = argparse.ArgumentParser(prog="python -m bench.tracks_write", description=__doc__)
    p.add_argument("--rows", type=int, default=600_000)
    p.add_argument("--workers", type=int, default=20_000)
    p.add_argument("--batch", type=int, default=20_000)
    a = p.parse_args()
    print(json.dumps(asyncio.run(main(a.rows, a.workers, a.batch))))
