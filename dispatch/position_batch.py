"""Position reports of one process coalesced into one Redis script call per batch.

Hundreds of workers' sockets each send a frame every few seconds; one EVALSHA per frame makes the Redis
client (and Redis's per-command overhead) the cost of the position path. Here a report joins the batch being
gathered and its caller waits for that batch's single `report.lua` call, so it is visible in Redis when its
caller resumes, exactly as before. Batching adds no timer: a batch is sent at the next turn of the event loop,
and while one is in flight the next gathers (natural batching), so under load batches grow and when idle a
report goes out alone at once."""

from __future__ import annotations

import asyncio
from weakref import WeakKeyDictionary

from redis.asyncio import Redis

from dispatch.presence import PositionResult, report_many

MAX_BATCH = 500  # reports per script call: keeps one call's time in Redis short (other clients wait meanwhile)

_Item = tuple[tuple[int, float, float, float], asyncio.Future[PositionResult]]


class PositionBatcher:
    """Coalesces `report` calls made on one event loop against one Redis client."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._pending: list[_Item] = []
        self._sender: asyncio.Task[None] | None = None

    async def report(self, *, worker_id: int, lon: float, lat: float, ts: float) -> PositionResult:
        """Store one worker's newest report (validated WGS-84, unix time); returns once Redis has it."""
        return await self.submit(worker_id=worker_id, lon=lon, lat=lat, ts=ts)

    def submit(self, *, worker_id: int, lon: float, lat: float, ts: float) -> asyncio.Future[PositionResult]:
        """`report` without waiting: the future resolves once Redis has it. Reports are applied in the order
        they were submitted, so a caller may keep several in flight (a socket reading on while Redis works)."""
        future: asyncio.Future[PositionResult] = asyncio.get_running_loop().create_future()
        self._pending.append(((worker_id, lon, lat, ts), future))
        if self._sender is None or self._sender.done():
            self._sender = asyncio.create_task(self._send())
        return future

    async def _send(self) -> None:
        await asyncio.sleep(0)  # let the reports of this turn of the loop join
        while self._pending:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            try:
                results = await report_many(self.redis, [item for item, _ in batch])
            except BaseException as exc:  # every waiting caller gets the error, as it would have alone
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc if isinstance(exc, Exception) else ConnectionError(str(exc)))
                if not isinstance(exc, Exception):
                    for _, future in self._pending:
                        if not future.done():
                            future.set_exception(ConnectionError("position batcher stopped"))
                    self._pending = []
                    raise
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)


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
