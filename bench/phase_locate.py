"""Locate: geo.locate.locate (the Python function) and GET /api/v1/locate (the HTTP endpoint), beside the module's
full statement (`_LOCATE`, every level in one query: the reference floor the target is judged against) through
pgbench at the same concurrency on the same tables and the same point distribution. The deepest-level statement
locate() asks first (`_LOCATE_DEEPEST`) goes through pgbench too, as a second figure: how close the function comes
to its own statement's raw speed."""

from __future__ import annotations

import asyncio
import multiprocessing
import random
from concurrent.futures import ProcessPoolExecutor

import uvloop
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.floor import pgbench_script, ratio, run_pgbench
from bench.http import session as http_session
from bench.runner import Samples, closed_loop
from bench.stats import summary
from command.core.db import make_engine, make_sessionmaker
from command.core.settings import Settings
from geo import locate as geo_locate

TOLERANCE_M = 200.0


def floor_script(box: tuple[float, float, float, float]) -> str:
    """The module's own statement; the fixed parameters as locate() computes them (radius at the box's worst
    latitude: the widest, so never cheaper than what the function sends)."""
    worst_lat = max(abs(box[1]), abs(box[3]))
    return pgbench_script(geo_locate._LOCATE.text, box, {
        "tolerance": TOLERANCE_M, "tie": geo_locate.TIE_M,
        "radius_deg": geo_locate.search_radius_deg(worst_lat, TOLERANCE_M)})


async def function(engine: AsyncEngine, box: tuple[float, float, float, float], *, clients: int, seconds: float,
                   max_count: int, per_call_session: bool, seed: int) -> dict:
    """locate() with `clients` concurrent callers: each with its own long-lived session (the function's own cost),
    or a fresh session per call (adds pool checkout, BEGIN and ROLLBACK: what a request pays)."""
    s, outside = await _calls(engine, box, clients=clients, seconds=seconds, max_count=max_count,
                              per_call_session=per_call_session, seed=seed)
    out = summary(s.latencies, s.wall, errors=s.errors)
    out.update(clients=clients, processes=1, outside=outside, first_error=s.first_error,
               session="per call" if per_call_session else "per client")
    return out


async def function_processes(database_url: str, box: tuple[float, float, float, float], *, processes: int,
                             clients: int, seconds: float, max_count: int, seed: int) -> dict:
    """The same callers (a session each) split over `processes` Python processes, as pgbench splits its clients
    over threads (-j 2) and as the app runs two web processes: one Python process's event loop serialises its
    callers' client-side work, and on its own it sets the tail rather than the database does."""
    per = max(1, clients // processes)
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn")) as pool:
        parts = await asyncio.gather(*(loop.run_in_executor(
            pool, _calls_in_process, database_url, box, per, seconds, max_count // processes, seed + i)
            for i in range(processes)))
    latencies = [x for lat, _, _, _, _ in parts for x in lat]
    out = summary(latencies, max(wall for _, wall, _, _, _ in parts), errors=sum(p[2] for p in parts))
    out.update(clients=per * processes, processes=processes, outside=sum(p[3] for p in parts),
               first_error=next((p[4] for p in parts if p[4]), None), session="per client")
    return out


def _calls_in_process(database_url: str, box: tuple[float, float, float, float], clients: int, seconds: float,
                      max_count: int, seed: int) -> tuple[list[float], float, int, int, str | None]:
    async def main() -> tuple[list[float], float, int, int, str | None]:
        engine = make_engine(Settings(database_url=database_url), pool_size=clients, max_overflow=0)
        try:
            s, outside = await _calls(engine, box, clients=clients, seconds=seconds, max_count=max_count,
                                      per_call_session=False, seed=seed)
        finally:
            await engine.dispose()
        return s.latencies, s.wall, s.errors, outside, s.first_error

    return uvloop.run(main())


async def _calls(engine: AsyncEngine, box: tuple[float, float, float, float], *, clients: int, seconds: float,
                 max_count: int, per_call_session: bool, seed: int) -> tuple[Samples, int]:
    sm = make_sessionmaker(engine)
    rng = random.Random(seed)
    pool = [sm() for _ in range(clients)]
    outside = 0

    async def call(i: int) -> None:
        nonlocal outside
        lon, lat = rng.uniform(box[0], box[2]), rng.uniform(box[1], box[3])
        if per_call_session:
            async with sm() as session:
                res = await geo_locate.locate(session, lon=lon, lat=lat, tolerance_m=TOLERANCE_M)
        else:
            session = pool.pop()
            try:
                res = await geo_locate.locate(session, lon=lon, lat=lat, tolerance_m=TOLERANCE_M)
            finally:
                pool.append(session)
        outside += res.outside

    try:
        await closed_loop(call, clients=clients, seconds=min(1.0, seconds / 4), max_count=max_count)  # warm up
        s = await closed_loop(call, clients=clients, seconds=seconds, max_count=max_count)
    finally:
        for session in pool:
            await session.close()
    return s, outside


async def http(base_urls: list[str], token: str, box: tuple[float, float, float, float], *, clients: int,
               seconds: float, max_count: int, seed: int) -> dict:
    rng = random.Random(seed)
    async with http_session(token, connections=clients, timeout_s=10.0) as client:
        async def call(i: int) -> None:
            params = {"lon": rng.uniform(box[0], box[2]), "lat": rng.uniform(box[1], box[3])}
            async with client.get(f"{base_urls[i % len(base_urls)]}/api/v1/locate", params=params) as r:
                await r.read()
                r.raise_for_status()

        await closed_loop(call, clients=clients, seconds=min(1.0, seconds / 4), max_count=max_count)
        s = await closed_loop(call, clients=clients, seconds=seconds, max_count=max_count)
    out = summary(s.latencies, s.wall, errors=s.errors)
    out.update(clients=clients, processes=len(base_urls), first_error=s.first_error)
    return out


def new_statement_script(box: tuple[float, float, float, float]) -> str:
    """The statement that answers every point a micro-grid holds (all of the sample box at province scale)."""
    return pgbench_script(geo_locate._LOCATE_DEEPEST.text, box, {})


def floor(database_url: str, box: tuple[float, float, float, float], *, clients: int, seconds: float) -> dict:
    return run_pgbench(database_url, floor_script(box), clients=clients, seconds=seconds)


def floor_new_statement(database_url: str, box: tuple[float, float, float, float], *, clients: int,
                        seconds: float) -> dict:
    return run_pgbench(database_url, new_statement_script(box), clients=clients, seconds=seconds)


def with_ratios(measured: dict, floor_figures: dict, new_statement: dict | None = None) -> dict:
    measured["ratio_to_floor"] = ratio(measured.get("per_s"), floor_figures.get("per_s"))
    if new_statement is not None:
        measured["ratio_to_new_statement"] = ratio(measured.get("per_s"), new_statement.get("per_s"))
    return measured
