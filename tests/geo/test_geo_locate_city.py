"""Acceptance: locate agrees with shapely on 10,000 points over the demo city — random points, points exactly on
shared vertices and edges, inside the enclave, outside within and beyond tolerance — and answers each point the
same way twice. The city goes in through the real import path; the reference reads the geometry back from PostGIS
(write, re-read, compare), so both sides judge the very same coordinates."""

from __future__ import annotations

import random
import time

import pytest
from shapely import wkb
from shapely.geometry import Point
from sqlalchemy import text

from command.demo.city import generate_city
from geo.imports import import_regions
from geo.locate import locate
from tests.geo_reference import RefRegion, ShapelyLocator
from tests.geo_samples import without_regions

SEED = 7
TOLERANCE_M = 200.0
COUNTS = {"random": 5000, "vertex": 1500, "edge": 1500, "enclave": 500, "near": 1000, "far": 500}


@pytest.fixture
async def session(session):
    """The shared rolled-back session, starting from an empty regions table."""
    return await without_regions(session)


@pytest.fixture
async def city(session):
    collection = generate_city(SEED)
    await import_regions(session, collection=collection)
    rows = await session.execute(text("SELECT code, level, depth, path, ST_AsBinary(geom) FROM regions"))
    regions = [RefRegion(code, level, depth, tuple(path), wkb.loads(g)) for code, level, depth, path, g in rows]
    enclave = next(f["properties"] for f in collection["features"] if "enclave_in" in f["properties"])
    return session, ShapelyLocator(regions), regions, enclave


def _points(ref: ShapelyLocator, regions: list[RefRegion], enclave: dict, rng: random.Random) -> list[tuple]:
    micro = [r for r in regions if r.level == "microgrid"]
    district = next(r for r in regions if r.depth == 0)
    minx, miny, maxx, maxy = district.geom.bounds
    pad = 0.01  # ~1 km around the city
    pts: list[tuple[str, float, float]] = []
    for _ in range(COUNTS["random"]):
        pts.append(("random", rng.uniform(minx - pad, maxx + pad), rng.uniform(miny - pad, maxy + pad)))
    # Vertices and edge points straight from the stored coordinates: shared by two or more micro-grids.
    for _ in range(COUNTS["vertex"]):
        ring = rng.choice(micro).geom.geoms[0].exterior.coords
        x, y = ring[rng.randrange(len(ring) - 1)]
        pts.append(("vertex", x, y))
    for _ in range(COUNTS["edge"]):
        ring = rng.choice(micro).geom.geoms[0].exterior.coords
        i = rng.randrange(len(ring) - 1)
        (x0, y0), (x1, y1) = ring[i], ring[i + 1]
        t = 0.5 if rng.random() < 0.5 else rng.random()
        pts.append(("edge", x0 + t * (x1 - x0), y0 + t * (y1 - y0)))
    # The enclave: a community of one street sitting in a hole of another.
    holder = next(r for r in regions if r.code == enclave["enclave_in"])
    hole = next(p for p in holder.geom.geoms if p.interiors).interiors[0]
    hx0, hy0, hx1, hy1 = hole.bounds
    from shapely.geometry import Polygon

    hole_poly = Polygon(hole)
    while sum(1 for p in pts if p[0] == "enclave") < COUNTS["enclave"]:
        x, y = rng.uniform(hx0, hx1), rng.uniform(hy0, hy1)
        if hole_poly.contains(Point(x, y)):
            pts.append(("enclave", x, y))
    # Outside: near (inside the tolerance) and far (beyond it); keep clear of the tolerance edge by 1 m.
    want = {"near": COUNTS["near"], "far": COUNTS["far"]}
    while want["near"] or want["far"]:
        x, y = rng.uniform(minx - pad, maxx + pad), rng.uniform(miny - pad, maxy + pad)
        if district.geom.intersects(Point(x, y)):
            continue
        d = ref.nearest_distance_m(x, y, district.geom)
        kind = "near" if d < TOLERANCE_M - 1 else "far" if d > TOLERANCE_M + 1 else None
        if kind and want[kind]:
            want[kind] -= 1
            pts.append((kind, x, y))
    return pts


async def test_locate_agrees_with_shapely_on_10000_points(city) -> None:
    session, ref, regions, enclave = city
    rng = random.Random(SEED)
    pts = _points(ref, regions, enclave, rng)
    assert len(pts) == 10_000
    enclave_codes = {r.code for r in regions if enclave["code"] in r.path}
    mismatches, seen, latencies = [], {k: 0 for k in COUNTS}, []
    answers: dict[int, tuple] = {}
    order = list(range(len(pts)))
    for run in range(2):
        rng.shuffle(order)  # the second run in another order: the answer must not depend on history
        for i in order:
            kind, x, y = pts[i]
            t = time.perf_counter()
            got = await locate(session, lon=x, lat=y, tolerance_m=TOLERANCE_M)
            latencies.append(time.perf_counter() - t)
            answer = (got.outside, tuple(got.path) or None)
            if run == 0:
                answers[i] = answer
                want_outside, want_path, _ = ref.locate(x, y, TOLERANCE_M)
                if answer != (want_outside, want_path):
                    mismatches.append((kind, x, y, answer, (want_outside, want_path)))
                seen[kind] += 1
                if kind == "enclave":
                    assert answer[1] and answer[1][-1] in enclave_codes, (x, y, answer)
                if kind == "far":
                    assert answer == (True, None)
                if kind == "near":
                    assert answer[0] and answer[1] is not None and len(answer[1]) == 5
                if kind == "vertex":  # a stored vertex is on the boundary, which counts as inside
                    assert not answer[0]
            else:
                assert answers[i] == answer, f"not deterministic at {pts[i]}"
    assert mismatches == [], f"{len(mismatches)} disagreements, first: {mismatches[:5]}"
    assert seen == COUNTS
    assert all(len(ch) == 5 for _, ch in answers.values() if ch)  # the chain reaches the district
    latencies.sort()
    print(f"\nlocate over {len(latencies)} calls: p50 {latencies[len(latencies) // 2] * 1e3:.2f} ms, "
          f"p99 {latencies[int(len(latencies) * 0.99)] * 1e3:.2f} ms")
