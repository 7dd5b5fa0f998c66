"""Position reports of one process coalesced into one Redis script call per batch.

Hundreds of workers' sockets each send a frame every few seconds; one EVALSHA per frame makes the Redis
client (and Redis's per-command overhead) the cost of the position path. Here a report joins the batch being
gathered and its caller waits for that batch's single `report.lua` call, so it is visible in Redis when its
caller resumes, exactly as before. Batching adds no timer: a batch is sent at the next turn of the event loop,
and while one is in flight the next gathers (natural batching), so under load batches grow and when idle a
report goes out alone at once."""

from __future__ import annotations

import asyncio
import itertools
from weakref import WeakKeyDictionary

from redis.asyncio import Redis

from dispatch.presence import PositionResult, report_many

MAX_BATCH = 500  # workers per script call: keeps one call's time in Redis short (other clients wait meanwhile)

_Report = tuple[int, float, float, float]  # worker id, lon, lat, unix time


class _Waiting:
    """One worker's newest report not yet sent, and everyone waiting for it."""

    __slots__ = ("futures", "report")

    def __init__(self, report: _Report, future: asyncio.Future[PositionResult]) -> None:
        self.report = report
        self.futures: list[tuple[float, asyncio.Future[PositionResult]]] = [(report[3], future)]


class PositionBatcher:
    """Coalesces `report` calls made on one event loop against one Redis client.

    Reports of one worker that wait for the same call are merged: only the newest goes to Redis, which would
    have overwritten the older ones anyway (report.lua keeps the newest). So however fast a phone sends, the
    queue holds one entry per worker, and a worker whose report just arrived waits at most for the call in
    flight, not behind another worker's backlog."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._pending: dict[int, _Waiting] = {}
        self._sender: asyncio.Task[None] | None = None

    async def report(self, *, worker_id: int, lon: float, lat: float, ts: float) -> PositionResult:
        """Store one worker's newest report (validated WGS-84, unix time); returns once Redis has it."""
        return await self.submit(worker_id=worker_id, lon=lon, lat=lat, ts=ts)

    def submit(self, *, worker_id: int, lon: float, lat: float, ts: float) -> asyncio.Future[PositionResult]:
        """`report` without waiting: the future resolves once Redis has it (or a newer report of the same
        worker that replaced it), so a caller may keep several in flight (a socket reading on while Redis
        works). `stored` is False for a report older than one stored or merged with it."""
        future: asyncio.Future[PositionResult] = asyncio.get_running_loop().create_future()
        report = (worker_id, lon, lat, ts)
        waiting = self._pending.get(worker_id)
        if waiting is None:
            self._pending[worker_id] = _Waiting(report, future)
        else:
            if ts > waiting.report[3]:
                waiting.report = report
            waiting.futures.append((ts, future))
        if self._sender is None or self._sender.done():
            self._sender = asyncio.create_task(self._send())
        return future

    def _take_batch(self) -> list[_Waiting]:
        batch = []
        for worker_id in list(itertools.islice(self._pending, MAX_BATCH)):
            batch.append(self._pending.pop(worker_id))
        return batch

    async def _send(self) -> None:
        await asyncio.sleep(0)  # let the reports of this turn of the loop join
        while self._pending:
            batch = self._take_batch()
            try:
                results = await report_many(self.redis, [w.report for w in batch])
            except BaseException as exc:  # every waiting caller gets the error, as it would have alone
                error = exc if isinstance(exc, Exception) else ConnectionError(str(exc))
                _fail(batch, error)
                if not isinstance(exc, Exception):
                    _fail(self._take_all(), ConnectionError("position batcher stopped"))
                    raise
                continue
            for waiting, result in zip(batch, results, strict=True):
                sent_ts = waiting.report[3]
                for ts, future in waiting.futures:
                    if not future.done():
                        future.set_result(result if ts == sent_ts else
                                          PositionResult(stored=False, registered=result.registered))

    def _take_all(self) -> list[_Waiting]:
        batch, self._pending = list(self._pending.values()), {}
        return batch


def _fail(batch: list[_Waiting], error: Exception) -> None:
    for waiting in batch:
        for _, future in waiting.futures:
            if not future.done():
                future.set_exception(error)


_batchers: WeakKeyDictionary[Redis, dict[asyncio.AbstractEventLoop, PositionBatcher]] = WeakKeyDictionary()


def batcher_for(redis: Redis) -> PositionBatcher:
    """The batcher of this Redis client on the running event loop."""
    loop = asyncio.get_running_loop()
    per_loop = _batchers.setdefault(redis, {})
    found = per_loop.get(loop)
    if found is None:
        per_loop.clear()  # a client is used on one loop at a time; drop a finished loop's batcher
        found = per_loop[loop] = PositionBatcher(redis)
    return found
