"""Import a GeoJSON FeatureCollection of regions: validate everything first, then upsert by code in bulk.

A file with any error raises GeoInputError listing every problem and writes nothing. The writes run inside a
savepoint of the caller's transaction (the caller commits), so a database failure half-way also leaves no trace.
Rows go in with executemany batches of INSERT … ON CONFLICT (code) DO UPDATE, ordered by level so a parent is
always written before its children and `parent_id` can be looked up by code in the same statement, with the
parent's `path_names`/`path_levels` (the chain locate() answers from) extended by the region's own.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import orjson
import shapely
from sqlalchemy import CursorResult, text
from sqlalchemy.ext.asyncio import AsyncSession
from tqdm import tqdm

from geo.errors import GeoInputError
from geo.validate import ValidRegion, check_existing_children, check_tree, parse_collection

BATCH = 2000
_MAX_TREE_DEPTH = 8  # levels are 5 deep; the loop that re-paths descendants stops well before this

_UPSERT = text("""
WITH p AS (SELECT id, path_names, path_levels FROM regions WHERE code = :parent_code)
INSERT INTO regions (code, name, level, depth, parent_id, path, path_names, path_levels, geom, properties, updated_at)
VALUES (:code, :name, :level, :depth, (SELECT id FROM p), CAST(:path AS varchar[]),
        coalesce((SELECT path_names FROM p), '{}') || CAST(:name AS varchar),
        coalesce((SELECT path_levels FROM p), '{}') || CAST(:level AS varchar),
        ST_Multi(ST_GeomFromWKB(:wkb, 4326)), CAST(:props AS jsonb), now())
ON CONFLICT (code) DO UPDATE SET
  name = EXCLUDED.name, level = EXCLUDED.level, depth = EXCLUDED.depth, parent_id = EXCLUDED.parent_id,
  path = EXCLUDED.path, path_names = EXCLUDED.path_names, path_levels = EXCLUDED.path_levels,
  geom = EXCLUDED.geom, properties = EXCLUDED.properties, updated_at = now()
""")

# Stored descendants of a region whose path, name or level changed: rewrite the chain (codes, names, levels) from
# the parent, one generation per pass, until nothing differs.
_REPATH = text("""
UPDATE regions c SET path = p.path || c.code, path_names = p.path_names || c.name,
                     path_levels = p.path_levels || c.level, updated_at = now()
FROM regions p
WHERE c.parent_id = p.id AND c.path && CAST(:moved AS varchar[])
  AND (c.path, c.path_names, c.path_levels)
      IS DISTINCT FROM (p.path || c.code, p.path_names || c.name, p.path_levels || c.level)
""")


@dataclass(slots=True)
class ImportReport:
    inserted: int = 0
    updated: int = 0
    repaired: list[str] = field(default_factory=list)
    descendants_repathed: int = 0
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return self.inserted + self.updated


# Told (regions written, regions in all) after each batch of a write.
Progress = Callable[[int, int], Awaitable[None]]


def load_collection(path: str | Path) -> object:
    """Read a GeoJSON file; anything that is not a JSON document is reported the way validation errors are."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise GeoInputError(f"cannot read {path}: {exc.strerror}",
                            details=[{"feature": None, "code": None, "reason": f"cannot read file: {exc}"}]) from exc
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise GeoInputError(f"{path} is not GeoJSON",
                            details=[{"feature": None, "code": None, "reason": f"not GeoJSON: invalid JSON ({exc})"}]
                            ) from exc


async def _stored(session: AsyncSession, codes: list[str]) -> dict[str, tuple[str, list[str], str]]:
    """code → (level, path, name) for the given codes that the database already holds."""
    if not codes:
        return {}
    rows = await session.execute(text(
        "SELECT code, level, path, name FROM regions WHERE code = ANY(CAST(:c AS varchar[]))"), {"c": codes})
    return {code: (level, list(path), name) for code, level, path, name in rows}


async def _stored_children(session: AsyncSession, codes: list[str]) -> list[tuple[str, str, str]]:
    rows = await session.execute(text(
        "SELECT c.code, c.level, p.code FROM regions c JOIN regions p ON c.parent_id = p.id "
        "WHERE p.code = ANY(CAST(:c AS varchar[]))"), {"c": codes})
    return [(child, level, parent) for child, level, parent in rows]


async def validate_against_db(session: AsyncSession, collection: object
                              ) -> tuple[list[ValidRegion], dict[str, tuple[str, list[str], str]]]:
    """All checks, file and database; raises GeoInputError with every problem. Reads only."""
    features, problems = parse_collection(collection)
    file_codes = {f.code for f in features if f.code is not None}
    outside_parents = {f.parent_code for f in features if f.parent_code and f.parent_code not in file_codes}
    stored = await _stored(session, sorted(file_codes | outside_parents))
    check_tree(features, {c: stored[c][0] for c in outside_parents if c in stored}, problems)
    relevelled = [f.code for f in features if f.code in stored and f.level is not None
                  and stored[f.code][0] != f.level.value]
    if relevelled:
        check_existing_children(features, await _stored_children(session, relevelled), problems)
    problems.raise_if_any()
    return [ValidRegion.of(f) for f in features], stored


def _paths(features: list[ValidRegion], stored: dict[str, tuple[str, list[str], str]]) -> dict[str, list[str]]:
    """Top-down codes for every feature; features arrive sorted by depth, so parents come first."""
    paths: dict[str, list[str]] = {}
    for f in features:
        if f.parent_code is None:
            paths[f.code] = [f.code]
        else:
            parent_path = paths.get(f.parent_code) or stored[f.parent_code][1]
            paths[f.code] = [*parent_path, f.code]
    return paths


async def import_regions(session: AsyncSession, *, collection: object, progress: bool = False,
                         batch_size: int = BATCH) -> ImportReport:
    """Validate, then upsert every region of the collection by code. The caller owns (and commits) the transaction."""
    started = time.perf_counter()
    features, stored = await validate_against_db(session, collection)
    return await write_regions(session, features=features, stored=stored, progress=progress,
                               batch_size=batch_size, started=started)


async def write_regions(session: AsyncSession, *, features: list[ValidRegion],
                        stored: dict[str, tuple[str, list[str], str]], progress: bool = False,
                        batch_size: int = BATCH, started: float | None = None,
                        on_progress: Progress | None = None) -> ImportReport:
    """Upsert regions that `validate_against_db` passed (with what it read of the database), in a savepoint;
    `on_progress(done, total)` after each batch (the admin console's progress bar)."""
    started = time.perf_counter() if started is None else started
    features = sorted(features, key=lambda f: f.level.depth)
    paths = _paths(features, stored)
    report = ImportReport(repaired=[f.code for f in features if f.repaired])
    # Re-imported regions whose descendants' stored chains go stale: another path, name or level.
    moved = [f.code for f in features if f.code in stored
             and stored[f.code] != (f.level.value, paths[f.code], f.name)]

    async with session.begin_nested():
        with tqdm(total=len(features), unit="region", desc="import", disable=not progress) as bar:
            for start in range(0, len(features), batch_size):
                chunk = features[start:start + batch_size]
                wkbs = shapely.to_wkb([f.geom for f in chunk])
                await session.execute(_UPSERT, [
                    {"code": f.code, "name": f.name, "level": f.level.value, "depth": f.level.depth,
                     "parent_code": f.parent_code, "path": paths[f.code], "wkb": wkb,
                     "props": orjson.dumps(f.properties).decode()}
                    for f, wkb in zip(chunk, wkbs, strict=True)
                ])
                bar.update(len(chunk))
                if on_progress is not None:
                    await on_progress(start + len(chunk), len(features))
        if moved:
            for _ in range(_MAX_TREE_DEPTH):
                # An UPDATE's result is a CursorResult (with rowcount); Session.execute is typed as plain Result.
                result = cast(CursorResult[Any], await session.execute(_REPATH, {"moved": moved}))
                if result.rowcount == 0:
                    break
                report.descendants_repathed += result.rowcount

    report.updated = sum(1 for f in features if f.code in stored)
    report.inserted = len(features) - report.updated
    report.seconds = time.perf_counter() - started
    return report


