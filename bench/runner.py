"""Bounded load loops: closed loop (N clients back to back) and open loop (a fixed arrival rate).

Every loop stops at whichever comes first, its time limit or its count limit."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field


@dataclass
class Samples:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str | None = None
    wall: float = 0.0

    def fail(self, exc: BaseException) -> None:
        self.errors += 1
        if self.first_error is None:
            self.first_error = f"{type(exc).__name__}: {exc}"[:500]


async def closed_loop(call: Callable[[int], Awaitable[object]], *, clients: int, seconds: float,
                      max_count: int) -> Samples:
    """`clients` tasks each call `call(i)` back to back; i counts calls across all clients."""
    s = Samples()
    counter = iter(range(max_count))
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        for i in counter:
            if time.perf_counter() >= deadline:
                return
            t0 = time.perf_counter()
            try:
                await call(i)
            except Exception as exc:  # a failed call is counted, not fatal to the run
                s.fail(exc)
                continue
            s.latencies.append(time.perf_counter() - t0)

    t0 = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    s.wall = time.perf_counter() - t0
    return s


async def open_loop(call: Callable[[int], Awaitable[object]], *, rate: float, seconds: float,
                    max_in_flight: int) -> tuple[Samples, int]:
    """Start `call(i)` at `rate` per second for `seconds`, whatever the answers' pace (up to max_in_flight
    outstanding, beyond which arrivals are counted as dropped). Returns the samples and the drop count."""
    s = Samples()
    total = int(rate * seconds)
    sem = asyncio.Semaphore(max_in_flight)
    dropped = 0
    tasks: set[asyncio.Task] = set()

    async def one(i: int) -> None:
        t0 = time.perf_counter()
        try:
            await call(i)
        except Exception as exc:
            s.fail(exc)
        else:
            s.latencies.append(time.perf_counter() - t0)
        finally:
            sem.release()

    start = time.perf_counter()
    for i in range(total):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if sem.locked():
            dropped += 1
            continue
        await sem.acquire()
        t = asyncio.create_task(one(i))
        tasks.add(t)
        t.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.wait(tasks, timeout=30)
    s.wall = time.perf_counter() - start
    return s, dropped
