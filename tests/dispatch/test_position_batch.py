"""Position reports coalesced per process (dispatch.position_batch) against the real Redis."""

from __future__ import annotations

import asyncio
import time

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from dispatch import keys
from dispatch.position_batch import PositionBatcher, batcher_for
from dispatch.presence import report_many


async def test_concurrent_reports_go_out_in_one_call_and_are_visible_on_return(redis) -> None:
    await redis.hset(keys.MAX_LOAD, mapping={"1": 1, "2": 1})
    batcher = PositionBatcher(redis)
    calls = 0
    real = redis.evalsha

    async def counting(*args, **kwargs):  # counts the calls, the real Redis still runs them
        nonlocal calls
        calls += 1
        return await real(*args, **kwargs)

    redis.evalsha = counting
    now = time.time()
    results = await asyncio.gather(*(
        batcher.report(worker_id=w, lon=118.78 + w / 1000, lat=32.04, ts=now) for w in (1, 2, 3)))
    assert calls == 1
    assert [(r.stored, r.registered) for r in results] == [(True, True), (True, True), (True, False)]
    assert await redis.zscore(keys.SEEN, "3") is not None
    assert [round(p[0], 3) for p in await redis.geopos(keys.POSITIONS, "1", "2")] == [118.781, 118.782]


async def test_reports_of_one_worker_waiting_for_the_same_call_are_merged_the_newest_sent(redis) -> None:
    await redis.hset(keys.MAX_LOAD, mapping={"1": 1})
    batcher = PositionBatcher(redis)
    sent: list[list] = []
    real = redis.evalsha

    async def recording(*args, **kwargs):  # records what goes to Redis, the real Redis still runs it
        sent.append(list(args[5:]))  # sha, numkeys, 3 keys, then the reports
        return await real(*args, **kwargs)

    redis.evalsha = recording
    now = time.time()
    results = await asyncio.gather(
        batcher.report(worker_id=1, lon=118.10, lat=32.0, ts=now - 2),
        batcher.report(worker_id=2, lon=118.20, lat=32.0, ts=now),
        batcher.report(worker_id=1, lon=118.11, lat=32.0, ts=now - 1),  # the newest of worker 1
        batcher.report(worker_id=1, lon=118.09, lat=32.0, ts=now - 3))  # late, older
    assert len(sent) == 1 and [str(w) for w in sent[0][0::4]] == ["1", "2"]  # one call, one report per worker
    assert [(r.stored, r.registered) for r in results] == [(False, True), (True, False), (True, True), (False, True)]
    assert round((await redis.geopos(keys.POSITIONS, "1"))[0][0], 3) == 118.11
    assert await redis.zscore(keys.SEEN, "1") == round(now - 1, 3)


async def test_an_older_report_never_overwrites_a_newer_one_in_the_same_batch(redis) -> None:
    now = time.time()
    results = await report_many(redis, [(7, 118.0, 32.0, now), (7, 119.0, 33.0, now - 10), (7, 118.5, 32.5, now + 1)])
    assert [r.stored for r in results] == [True, False, True]
    [(lon, _lat)] = await redis.geopos(keys.POSITIONS, "7")
    assert round(lon, 3) == 118.5


async def test_a_redis_error_reaches_every_caller_of_the_batch() -> None:
    down = Redis.from_url("redis://127.0.0.1:1/0")  # nothing listens there: a real connection failure
    batcher = batcher_for(down)
    results = await asyncio.gather(*(batcher.report(worker_id=w, lon=118.0, lat=32.0, ts=time.time())
                                     for w in (1, 2)), return_exceptions=True)
    assert all(isinstance(r, RedisConnectionError) for r in results), results
    assert batcher_for(down) is batcher
    await down.aclose()
