"""A reproducible province-scale region set: district → street → community → grid → micro-grid.

Each level splits every parent into irregular cells: the Voronoi diagram of well-spread seed points
(best-candidate sampling, denser near city centres) clipped to the parent, so the children tile their
parent and the tree nests exactly. Counts per parent follow a density field, so urban cells are small and
rural ones large. Work is in metres on a local plane, written out in WGS-84 lon/lat.

The result is cached under var/bench/ as one .npz per level (WKB + codes + parent index) and a worker
file, so reruns skip generation. The whole set is never held as GeoJSON: the loader decodes a batch at
a time."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
import shapely.affinity
from shapely.geometry.base import BaseGeometry

from bench.scale import Scale

LEVELS = ("district", "street", "community", "grid", "microgrid")
SUFFIX_DIGITS = (4, 3, 3, 3, 2)  # code = "32" + one block per level, e.g. 32 0101 003 012 004 02
NAME_FORMS = ("第{n}区", "第{n}街道", "第{n}社区", "网格{n}", "微网格{n}")
LON0, LAT0 = 119.4, 32.9  # Jiangsu's middle
M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON = 111_320.0 * float(np.cos(np.radians(LAT0)))
GENERATOR_VERSION = 1  # bump when the output changes, so stale caches are not reused


def to_lonlat(xy: np.ndarray) -> np.ndarray:
    return np.column_stack((LON0 + xy[:, 0] / M_PER_DEG_LON, LAT0 + xy[:, 1] / M_PER_DEG_LAT))


def to_metres(lonlat: np.ndarray) -> np.ndarray:
    return np.column_stack(((lonlat[:, 0] - LON0) * M_PER_DEG_LON, (lonlat[:, 1] - LAT0) * M_PER_DEG_LAT))


@dataclass(frozen=True, slots=True)
class Density:
    """Relative population density: a rural floor plus a Gaussian bump per city."""

    centres: np.ndarray  # (k, 2) metres
    sigma: np.ndarray  # (k,)
    weight: np.ndarray  # (k,)

    def __call__(self, xy: np.ndarray) -> np.ndarray:
        d2 = ((xy[:, None, :] - self.centres[None, :, :]) ** 2).sum(axis=2)
        return 0.3 + (self.weight[None, :] * np.exp(-d2 / (2 * self.sigma[None, :] ** 2))).sum(axis=1)


def outline(area_m2: float, rng: np.random.Generator) -> BaseGeometry:
    """An irregular, elongated province outline of the given area (a noisy star-shaped polygon)."""
    theta = np.linspace(0, 2 * np.pi, 1024, endpoint=False)
    r = np.ones_like(theta)
    for k in range(2, 14):
        r += rng.uniform(0, 0.12 / k**0.7) * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    xy = np.column_stack((1.25 * r * np.cos(theta), 0.8 * r * np.sin(theta)))
    poly = shapely.Polygon(xy)
    return shapely.affinity.scale(poly, *(2 * [np.sqrt(area_m2 / poly.area)]), origin=(0, 0))


def _sample(parent: BaseGeometry, count: int, rng: np.random.Generator, density: Density) -> np.ndarray:
    """`count` points inside parent, drawn with probability proportional to the density."""
    minx, miny, maxx, maxy = parent.bounds
    out, got = [], 0
    while got < count:
        cand = rng.uniform((minx, miny), (maxx, maxy), size=(max(3 * (count - got), 16), 2))
        cand = cand[shapely.contains_xy(parent, cand[:, 0], cand[:, 1])]
        dens = density(cand) if len(cand) else np.empty(0)
        cand = cand[rng.uniform(0, dens.max() if len(dens) else 1, len(cand)) <= dens]
        out.append(cand)
        got += len(cand)
    return np.concatenate(out)[:count]


def _seeds(parent: BaseGeometry, n: int, rng: np.random.Generator, density: Density, tries: int = 8) -> np.ndarray:
    """n well-spread seeds (Mitchell's best candidate), spacing shrinking where the density is high."""
    cand = _sample(parent, n * tries, rng, density)
    scale = np.sqrt(density(cand))
    picked = [0]
    mind = np.full(len(cand), np.inf)
    for _ in range(n - 1):
        mind = np.minimum(mind, np.hypot(*(cand - cand[picked[-1]]).T))
        window = rng.choice(len(cand), size=min(tries, len(cand)), replace=False)
        best = window[np.argmax(mind[window] * scale[window])]
        picked.append(int(best))
        mind[best] = -1.0
    return cand[picked]


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in shapely.get_parts(geom) if g.geom_type == "Polygon" and g.area > 0]
    return shapely.MultiPolygon(parts) if len(parts) > 1 else parts[0]


def split(parent: BaseGeometry, n: int, rng: np.random.Generator, density: Density) -> list[BaseGeometry]:
    """Split parent into n irregular children that tile it: Voronoi cells of n seeds, clipped to it."""
    if n <= 1:
        return [parent]
    pts = _seeds(parent, n, rng, density)
    minx, miny, maxx, maxy = parent.bounds
    frame = shapely.box(minx, miny, maxx, maxy).buffer(max(maxx - minx, maxy - miny))
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=frame))
    shapely.prepare(parent)
    clipped = shapely.intersection(cells, parent)
    return [_polygonal(c) for c in clipped if not c.is_empty]


def allocate(total: int, weights: np.ndarray, minimum: int = 1) -> np.ndarray:
    """Split total in proportion to weights (largest remainder), each at least `minimum`."""
    spare = total - minimum * len(weights)
    if spare < 0:
        raise ValueError("total below the minimum")
    raw = spare * weights / weights.sum()
    counts = np.floor(raw).astype(np.int64)
    order = np.argsort(-(raw - counts), kind="stable")
    counts[order[: spare - int(counts.sum())]] += 1
    return counts + minimum


def _weights(geoms: list[BaseGeometry], density: Density) -> np.ndarray:
    arr = np.array(geoms, dtype=object)
    cen = shapely.get_coordinates(shapely.point_on_surface(arr))
    return shapely.area(arr) * density(cen)


@dataclass
class Level:
    name: str
    geoms: list[BaseGeometry]  # metres
    parent: np.ndarray  # index into the previous level (-1 at the top)
    codes: np.ndarray


def generate(scale: Scale, seed: int, log: callable = print) -> tuple[list[Level], dict]:
    rng = np.random.default_rng(seed)
    prov = outline(scale.area_km2 * 1e6, rng)
    centres = _sample(prov, scale.cities, rng, Density(np.zeros((1, 2)), np.ones(1), np.zeros(1)))
    half = np.sqrt(scale.area_km2 * 1e6) / 2
    density = Density(centres, rng.uniform(0.04, 0.08, scale.cities) * half, rng.uniform(2.0, 8.0, scale.cities))
    levels: list[Level] = []
    parents, parent_codes = [prov], np.array(["32"])
    timings = {}
    for depth, name in enumerate(LEVELS):
        t0 = time.perf_counter()
        counts = allocate(scale.counts[depth], _weights(parents, density), minimum=1 if depth < 4 else 2)
        geoms: list[BaseGeometry] = []
        pidx: list[np.ndarray] = []
        codes: list[str] = []
        width = SUFFIX_DIGITS[depth]
        for i, (p, n) in enumerate(zip(parents, counts, strict=True)):
            kids = split(p, int(n), rng, density)
            geoms.extend(kids)
            pidx.append(np.full(len(kids), i, dtype=np.int32))
            codes.extend(f"{parent_codes[i]}{k + 1:0{width}d}" for k in range(len(kids)))
        level = Level(name, geoms, np.concatenate(pidx) if depth else np.full(len(geoms), -1, np.int32),
                      np.array(codes))
        levels.append(level)
        timings[name] = round(time.perf_counter() - t0, 2)
        log(f"  {name:10s} {len(geoms):>8,d} regions in {timings[name]:.1f} s")
        parents, parent_codes = geoms, level.codes
    meta = {"seed": seed, "scale": scale.name, "version": GENERATOR_VERSION, "timings_s": timings,
            "counts": {lv.name: len(lv.geoms) for lv in levels},
            "area_km2": round(prov.area / 1e6, 1), "bounds_lonlat": to_lonlat(
                np.array(prov.bounds).reshape(2, 2)).ravel().round(6).tolist()}
    return levels, meta


def place_workers(scale: Scale, levels: list[Level], rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Full-time workers each serve a grid (the denser grids first get one), liaisons a micro-grid;
    each stands at a random point inside the region they serve."""
    grids, micros = levels[3], levels[4]
    g_idx = rng.choice(len(grids.geoms), size=min(scale.fulltime, len(grids.geoms)), replace=False)
    n_part = scale.workers - len(g_idx)
    m_idx = np.concatenate([rng.permutation(len(micros.geoms))] * (n_part // len(micros.geoms) + 1))[:n_part]
    serve = np.concatenate([np.array(grids.geoms, dtype=object)[g_idx], np.array(micros.geoms, dtype=object)[m_idx]])
    codes = np.concatenate([grids.codes[g_idx], micros.codes[m_idx]])
    xy = _points_in(serve, rng)
    lonlat = to_lonlat(xy)
    kind = np.array(["fulltime"] * len(g_idx) + ["parttime"] * n_part)
    return {"lon": lonlat[:, 0], "lat": lonlat[:, 1], "grid_code": codes, "kind": kind}


def _points_in(geoms: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One uniform random point inside each geometry (vectorised rejection sampling)."""
    bounds = shapely.bounds(geoms)
    out = np.empty((len(geoms), 2))
    todo = np.arange(len(geoms))
    shapely.prepare(geoms)
    while len(todo):
        b = bounds[todo]
        xy = rng.uniform(b[:, :2], b[:, 2:])
        ok = shapely.contains_xy(geoms[todo], xy[:, 0], xy[:, 1])
        out[todo[ok]] = xy[ok]
        todo = todo[~ok]
    return out


# ---- the on-disk cache ------------------------------------------------------------------------------

def cache_dir(root: Path, scale: Scale, seed: int) -> Path:
    return root / f"province-{scale.name}-s{seed}-v{GENERATOR_VERSION}"


def ensure(root: Path, scale: Scale, seed: int, log: callable = print) -> Path:
    """Generate the region set and workers into the cache unless they are already there."""
    d = cache_dir(root, scale, seed)
    if (d / "meta.json").exists():
        log(f"region set cached at {d}")
        return d
    log(f"generating {scale.name} region set (seed {seed}) ...")
    t0 = time.perf_counter()
    levels, meta = generate(scale, seed, log)
    workers = place_workers(scale, levels, np.random.default_rng(seed + 1))
    d.mkdir(parents=True, exist_ok=True)
    for lv in levels:
        lonlat = shapely.transform(np.array(lv.geoms, dtype=object), to_lonlat)
        blobs = shapely.to_wkb(lonlat)
        sizes = np.fromiter((len(b) for b in blobs), dtype=np.int64, count=len(blobs))
        np.savez(d / f"{lv.name}.npz", wkb=np.frombuffer(b"".join(blobs), dtype=np.uint8),
                 offsets=np.concatenate([[0], np.cumsum(sizes)]), parent=lv.parent, codes=lv.codes)
    np.savez(d / "workers.npz", **workers)
    meta["generate_s"] = round(time.perf_counter() - t0, 1)
    meta["workers"] = len(workers["lon"])
    (d / "meta.json").write_text(json.dumps(meta, indent=1))
    log(f"generated in {meta['generate_s']} s → {d}")
    return d


def read_meta(d: Path) -> dict:
    return json.loads((d / "meta.json").read_text())


class LevelFile:
    """One cached level, read lazily: geometries are decoded a batch at a time."""

    def __init__(self, d: Path, name: str) -> None:
        z = np.load(d / f"{name}.npz")
        self.name = name
        self.wkb, self.offsets, self.parent, self.codes = z["wkb"], z["offsets"], z["parent"], z["codes"]

    def __len__(self) -> int:
        return len(self.codes)

    def geoms(self, start: int, stop: int) -> np.ndarray:
        buf = self.wkb
        return shapely.from_wkb([buf[self.offsets[i]:self.offsets[i + 1]].tobytes() for i in range(start, stop)])


def load_workers(d: Path) -> dict[str, np.ndarray]:
    z = np.load(d / "workers.npz")
    return {k: z[k] for k in z.files}


def sample_box(d: Path) -> tuple[float, float, float, float]:
    """A lon/lat rectangle inside the province (its bounding box shrunk about the centre until it fits), where
    both the Python drivers and pgbench draw their locate points. Cached in meta.json."""
    meta = read_meta(d)
    if "sample_box" in meta:
        return tuple(meta["sample_box"])  # type: ignore[return-value]
    top = LevelFile(d, LEVELS[0])
    prov = shapely.union_all(top.geoms(0, len(top)))
    c = prov.centroid
    minx, miny, maxx, maxy = prov.bounds
    lo, hi = 0.0, 1.0
    for _ in range(20):
        mid = (lo + hi) / 2
        box = shapely.box(c.x + (minx - c.x) * mid, c.y + (miny - c.y) * mid, c.x + (maxx - c.x) * mid,
                          c.y + (maxy - c.y) * mid)
        lo, hi = (mid, hi) if prov.contains(box) else (lo, mid)
    box_t = tuple(round(v, 6) for v in (c.x + (minx - c.x) * lo, c.y + (miny - c.y) * lo,
                                        c.x + (maxx - c.x) * lo, c.y + (maxy - c.y) * lo))
    meta["sample_box"] = box_t
    (d / "meta.json").write_text(json.dumps(meta, indent=1))
    return box_t  # type: ignore[return-value]
