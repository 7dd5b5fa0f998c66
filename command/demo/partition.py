"""Geometry for the generated city: relaxed Voronoi partitions of a parent polygon, and the final
noding pass that turns an approximate partition into an exact coverage (shared borders bit-identical)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import shapely
from shapely.geometry import MultiPoint, Point, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.strtree import STRtree


def sample_points(poly: BaseGeometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """n uniform random points inside poly (rejection sampling from its bounding box)."""
    minx, miny, maxx, maxy = poly.bounds
    out: list[np.ndarray] = []
    got = 0
    while got < n:
        cand = rng.uniform((minx, miny), (maxx, maxy), size=(max(4 * (n - got), 16), 2))
        cand = cand[shapely.contains_xy(poly, cand[:, 0], cand[:, 1])]
        out.append(cand)
        got += len(cand)
    return np.concatenate(out)[:n]


def _cells(parent: BaseGeometry, pts: np.ndarray) -> list[BaseGeometry]:
    """Voronoi cells of pts (in input order) clipped to parent."""
    minx, miny, maxx, maxy = parent.bounds
    frame = shapely.box(minx, miny, maxx, maxy).buffer(max(maxx - minx, maxy - miny))
    cells = shapely.voronoi_polygons(MultiPoint(pts), extend_to=frame, ordered=True)
    return [c.intersection(parent) for c in cells.geoms]


def voronoi_partition(
    parent: BaseGeometry, n: int, rng: np.random.Generator, *, lloyd: int = 3, jitter: float = 0.25
) -> list[Polygon]:
    """Split parent into n irregular polygons: jittered, partly relaxed Voronoi cells clipped to it.

    Lloyd iterations even out the sizes; jitter afterwards keeps the cells from looking machine-made.
    A cell that clipping cuts into pieces keeps the piece with its seed; the other pieces go to the
    sibling sharing the longest border with them, so every child is one Polygon."""
    if n == 1:
        if isinstance(parent, Polygon):
            return [parent]
        raise ValueError(f"a {parent.geom_type} cannot be one polygon")
    pts = sample_points(parent, n, rng)
    for _ in range(lloyd):
        cells = _cells(parent, pts)
        new = []
        for c, p in zip(cells, pts, strict=True):
            cen = c.centroid if not c.is_empty else Point(p)
            if not parent.contains(cen):
                cen = c.point_on_surface() if not c.is_empty else Point(p)
            new.append((cen.x, cen.y))
        pts = np.array(new)
    spacing = np.sqrt(parent.area / n)
    moved = pts + rng.normal(0, jitter * spacing, size=pts.shape)
    inside = shapely.contains_xy(parent, moved[:, 0], moved[:, 1])
    pts = np.where(inside[:, None], moved, pts)
    return _fix_pieces(_cells(parent, pts), pts)


def _largest(geom: BaseGeometry) -> Polygon:
    parts = [g for g in getattr(geom, "geoms", [geom]) if isinstance(g, Polygon)]
    return max(parts, key=lambda g: g.area)


def _fix_pieces(cells: list[BaseGeometry], pts: np.ndarray) -> list[Polygon]:
    keep: list[Polygon] = []
    orphans: list[Polygon] = []
    for c, p in zip(cells, pts, strict=True):
        parts = [g for g in getattr(c, "geoms", [c]) if isinstance(g, Polygon) and not g.is_empty]
        seed = Point(p)
        main = next((g for g in parts if g.covers(seed)), None) or max(parts, key=lambda g: g.area)
        keep.append(main)
        orphans.extend(g for g in parts if g is not main)
    for piece in orphans:
        # The sibling sharing the longest border takes the stray piece.
        grown = piece.buffer(max(piece.length, 1e-9) * 1e-6)
        best = max(range(len(keep)), key=lambda i: keep[i].boundary.intersection(grown).length)
        keep[best] = _largest(shapely.union(keep[best], piece.buffer(max(piece.length, 1e-9) * 1e-7)))
    return keep


def allocate(total: int, weights: Sequence[float], minimum: int) -> list[int]:
    """Split `total` in proportion to weights (largest remainder), each at least `minimum`."""
    w = np.asarray(weights, dtype=float)
    spare = total - minimum * len(w)
    if spare < 0:
        raise ValueError("total below the minimum")
    raw = spare * w / w.sum()
    counts = np.floor(raw).astype(int)
    order = np.argsort(-(raw - counts), kind="stable")
    counts[order[: spare - counts.sum()]] += 1
    return [int(c) + minimum for c in counts]


def exact_coverage(
    leaves: Sequence[BaseGeometry],
    *,
    warp: Callable[[np.ndarray], np.ndarray],
    unwarp: Callable[[np.ndarray], np.ndarray],
    to_lonlat: Callable[[np.ndarray], np.ndarray],
    grid: float,
    segment_m: float = 25.0,
) -> list[BaseGeometry]:
    """Leaves (metres, approximately tiling) → lon/lat polygons that tile exactly.

    The leaf borders are noded once into one shared line set, densified and bent by `warp` (so Voronoi's
    straight edges become gently curved, like streets and rivers), snap-rounded to `grid` degrees and
    polygonised. Each face goes to the leaf containing its (unwarped) interior point; a sliver nobody or
    two leaves own goes to the neighbour sharing the longest edge. Neighbours therefore carry the very same
    vertices on their common border, at every level."""
    lines = shapely.unary_union(shapely.boundary(np.array(leaves, dtype=object)), grid_size=0.01)
    lines = shapely.transform(shapely.segmentize(lines, segment_m), lambda xy: to_lonlat(warp(xy)))
    lines = shapely.unary_union(lines, grid_size=grid)
    faces = list(shapely.polygonize(list(getattr(lines, "geoms", [lines]))).geoms)
    reps = shapely.transform(shapely.point_on_surface(np.array(faces, dtype=object)), unwarp_from(to_lonlat, unwarp))
    tree = STRtree(list(leaves))
    pairs = tree.query(reps, predicate="within")
    owners: dict[int, list[int]] = {}
    for f, leaf in zip(pairs[0], pairs[1], strict=True):
        owners.setdefault(int(f), []).append(int(leaf))
    owned: list[list[BaseGeometry]] = [[] for _ in leaves]
    slivers = []
    for i, face in enumerate(faces):
        o = owners.get(i, [])
        if len(o) == 1:
            owned[o[0]].append(face)
        else:
            slivers.append(face)
    for face in slivers:
        neighbours = [j for j, fs in enumerate(owned) if fs and any(face.intersects(f) for f in fs)]
        best = max(neighbours, key=lambda j: sum(face.boundary.intersection(f.boundary).length for f in owned[j]))
        owned[best].append(face)
    return [shapely.unary_union(fs, grid_size=grid) for fs in owned]


def unwarp_from(to_lonlat: Callable[[np.ndarray], np.ndarray],
                unwarp: Callable[[np.ndarray], np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
    """lon/lat → unwarped metres, for looking up which leaf a face came from."""
    probe = to_lonlat(np.array([[0.0, 0.0], [1.0, 1.0]]))
    scale = probe[1] - probe[0]

    def inverse(ll: np.ndarray) -> np.ndarray:
        return unwarp((ll - probe[0]) / scale)

    return inverse


class Warp:
    """A smooth, small displacement field (a few sinusoids) and its inverse by fixed-point iteration.

    The gradient stays well below 1, so it bends lines without folding the plane."""

    def __init__(self, rng: np.random.Generator, waves: Sequence[tuple[float, float]]) -> None:
        self.terms = []
        for amplitude, wavelength in waves:
            angle = rng.uniform(0, np.pi)
            k = 2 * np.pi / wavelength * np.array([np.cos(angle), np.sin(angle)])
            self.terms.append((amplitude * rng.uniform(-1, 1, size=2), k, rng.uniform(0, 2 * np.pi)))

    def offset(self, xy: np.ndarray) -> np.ndarray:
        out = np.zeros_like(xy)
        for amp, k, phase in self.terms:
            out += np.sin(xy @ k + phase)[:, None] * amp
        return out

    def __call__(self, xy: np.ndarray) -> np.ndarray:
        warped: np.ndarray = xy + self.offset(xy)
        return warped

    def inverse(self, xy: np.ndarray) -> np.ndarray:
        x = xy.copy()
        for _ in range(30):
            x = xy - self.offset(x)
        return x
