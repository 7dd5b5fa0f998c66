"""Loading the cached province into the benchmark database, through the project's own paths.

Regions go through `geo.imports.import_regions` (validation, repair, upsert by code) a batch at a time, level by
level, one committed transaction per batch: parents are stored before their children's batch validates, and only
one batch of GeoJSON is ever in memory. Workers' durable rows go in with COPY (there is no per-row logic to
exercise); their user accounts too, with one shared unusable password hash (tokens are minted, not logged in)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import orjson
import psycopg
import shapely
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.province import LEVELS, NAME_FORMS, LevelFile, load_workers
from geo.imports import import_regions

REGION_BATCH = 5_000
UNUSABLE_HASH = "!bench-no-login"  # verify_password fails on it, so these accounts cannot log in


def _collection(lf: LevelFile, parent_codes: np.ndarray | None, start: int, stop: int) -> dict:
    geoms = shapely.to_geojson(lf.geoms(start, stop))
    depth = LEVELS.index(lf.name)
    feats = []
    for i, gj in zip(range(start, stop), geoms, strict=True):
        feats.append({"type": "Feature", "geometry": orjson.loads(gj), "properties": {
            "code": str(lf.codes[i]), "name": NAME_FORMS[depth].format(n=lf.codes[i][-3:].lstrip("0") or "0"),
            "level": lf.name, "parent_code": str(parent_codes[lf.parent[i]]) if parent_codes is not None else None,
        }})
    return {"type": "FeatureCollection", "features": feats}


async def import_province(engine: AsyncEngine, d: Path, log: Callable[[str], None] = print) -> dict:
    """Import every level through import_regions; returns per-level seconds and rates."""
    from command.core.db import make_sessionmaker

    sm = make_sessionmaker(engine)
    out: dict[str, dict] = {}
    parent_codes = None
    for name in LEVELS:
        lf = LevelFile(d, name)
        t0 = time.perf_counter()
        in_import = 0.0
        for start in range(0, len(lf), REGION_BATCH):
            coll = _collection(lf, parent_codes, start, min(start + REGION_BATCH, len(lf)))
            t1 = time.perf_counter()
            async with sm() as session, session.begin():
                await import_regions(session, collection=coll)
            in_import += time.perf_counter() - t1
        secs = time.perf_counter() - t0
        out[name] = {"regions": len(lf), "seconds": round(secs, 2), "import_regions_s": round(in_import, 2),
                     "per_s": round(len(lf) / secs, 1)}
        log(f"  imported {len(lf):>8,d} {name} in {secs:.1f} s ({len(lf) / secs:,.0f}/s)")
        parent_codes = lf.codes
    async with engine.begin() as conn:
        await conn.execute(text("ANALYZE regions"))
    return out


def copy_workers(sync_url: str, d: Path, log: Callable[[str], None] = print) -> dict:
    """Users (role worker) and workers rows for every generated worker, by COPY; ids are 1..N in both."""
    w = load_workers(d)
    n = len(w["lon"])
    t0 = time.perf_counter()
    with psycopg.connect(sync_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        base = conn.execute("SELECT coalesce(max(id), 0) FROM users").fetchone()[0]
        with conn.cursor().copy("COPY users (id, username, display_name, role, region_code, password_hash) "
                                "FROM STDIN") as cp:
            for i in range(n):
                cp.write_row((base + i + 1, f"bw{i + 1}", f"网格员{i + 1}", "worker", str(w["grid_code"][i]),
                              UNUSABLE_HASH))
        with conn.cursor().copy("COPY workers (id, user_id, name, kind, grid_codes, skills, max_load, home, on_duty) "
                                "FROM STDIN") as cp:
            for i in range(n):
                cp.write_row((i + 1, base + i + 1, f"网格员{i + 1}", str(w["kind"][i]), [str(w["grid_code"][i])], [], 2,
                              f"SRID=4326;POINT({w['lon'][i]:.7f} {w['lat'][i]:.7f})", True))
        conn.execute("SELECT setval(pg_get_serial_sequence('users', 'id'), (SELECT max(id) FROM users))")
        conn.execute("SELECT setval(pg_get_serial_sequence('workers', 'id'), (SELECT max(id) FROM workers))")
        conn.execute("ANALYZE users; ANALYZE workers")
    secs = time.perf_counter() - t0
    log(f"  copied {n:,d} workers (+ users) in {secs:.1f} s")
    return {"workers": n, "seconds": round(secs, 2), "user_id_base": base}
