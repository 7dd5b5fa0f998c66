"""Region files as a surveying office delivers them, made in the test: a street → community → grid hierarchy of
irregular polygons around 120°E (Hangzhou), with Chinese attribute names, written by pyogrio.

The design is a jittered lattice in CGCS2000 longitude/latitude: each cell (a grid) has 8 vertices, the lattice
points and a point on each edge, every one shared with the neighbouring cells. Each lattice point is projected once
with pyproj, so neighbours share bit-identical projected vertices too; communities and streets are the outlines of
their blocks of cells, walked along the same points.
"""

from __future__ import annotations

import random
import shutil
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from pyogrio import raw
from pyproj import Transformer
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text

SAME_DEG = 1e-9  # (~0.1 mm) what a Gauss–Krüger round trip may move a vertex

LON0, LAT0 = 120.10, 30.26  # West Lake district; 3° Gauss–Krüger zone 40 has central meridian 120°E
COLS, ROWS = 6, 4  # cells (grids)
DX, DY = 0.0042, 0.0036  # ~400 m
GK_ZONE_40 = "EPSG:4528"  # CGCS2000 / 3-degree Gauss-Kruger zone 40 (zone number in the easting)
GK_CM_120 = "EPSG:4549"  # CGCS2000 / 3-degree Gauss-Kruger CM 120E (the same projection, no zone number)
CGCS2000 = "EPSG:4490"

STREETS = [("330106001", "西溪街道", range(0, 3)), ("330106002", "北山街道", range(3, 6))]
COMMUNITIES = ["文一社区", "文二社区", "曙光社区", "保俶社区"]
# The file's own field names (GBK in the .dbf: 8 bytes each, within a Shapefile's 10) and the --map for them.
FIELDS_ZH = ["网格代码", "网格名称", "层级", "上级代码", "人口", "负责人"]
MAP_ZH = "code=网格代码,name=网格名称,level=层级,parent_code=上级代码"
FIELDS_PINYIN = ["WGDM", "WGMC", "JB", "SJDM", "RK", "FZR"]
MAP_PINYIN = "code=WGDM,name=WGMC,level=JB,parent_code=SJDM"
LEVEL_ZH = {"street": "街道", "community": "社区", "grid": "网格"}
DEPTH = {"street": 1, "community": 2, "grid": 3}


@dataclass(frozen=True)
class DesignRegion:
    code: str
    name: str
    level: str
    parent_code: str | None
    path: tuple[str, ...]
    ring: tuple[tuple[str, int, int], ...]  # lattice keys, counter-clockwise, not closed
    population: int
    manager: str


def _lattice(seed: int) -> dict[tuple[str, int, int], tuple[float, float]]:
    """Lattice points P, bottom/top edge points H, left/right edge points V, jittered (kept simple polygons)."""
    rng = random.Random(seed)
    pts: dict[tuple[str, int, int], tuple[float, float]] = {}
    for i in range(COLS + 1):
        for j in range(ROWS + 1):
            pts[("P", i, j)] = (LON0 + (i + rng.uniform(-0.15, 0.15)) * DX,
                                LAT0 + (j + rng.uniform(-0.15, 0.15)) * DY)
    for i in range(COLS):
        for j in range(ROWS + 1):  # on the edge P(i,j)–P(i+1,j), pushed up or down a little
            (x0, y0), (x1, y1) = pts[("P", i, j)], pts[("P", i + 1, j)]
            pts[("H", i, j)] = ((x0 + x1) / 2, (y0 + y1) / 2 + rng.uniform(-0.12, 0.12) * DY)
    for i in range(COLS + 1):
        for j in range(ROWS):
            (x0, y0), (x1, y1) = pts[("P", i, j)], pts[("P", i, j + 1)]
            pts[("V", i, j)] = ((x0 + x1) / 2 + rng.uniform(-0.12, 0.12) * DX, (y0 + y1) / 2)
    return pts


def _block_ring(i0: int, i1: int, j0: int, j1: int) -> tuple[tuple[str, int, int], ...]:
    """The outline of cells [i0, i1) × [j0, j1), counter-clockwise from the bottom-left corner."""
    ring: list[tuple[str, int, int]] = []
    for i in range(i0, i1):
        ring += [("P", i, j0), ("H", i, j0)]
    for j in range(j0, j1):
        ring += [("P", i1, j), ("V", i1, j)]
    for i in range(i1, i0, -1):
        ring += [("P", i, j1), ("H", i - 1, j1)]
    for j in range(j1, j0, -1):
        ring += [("P", i0, j), ("V", i0, j - 1)]
    return tuple(ring)


def design() -> list[DesignRegion]:
    """2 streets → 4 communities → 24 grids (a grid is one cell; a community 3 × 2 cells)."""
    out: list[DesignRegion] = []
    rng = random.Random(11)
    for s, (street, street_name, cols) in enumerate(STREETS):
        i0, i1 = cols.start, cols.stop
        out.append(DesignRegion(street, street_name, "street", None, (street,), _block_ring(i0, i1, 0, ROWS),
                                rng.randrange(20_000, 60_000), "王主任"))
        for half in range(2):
            community = f"{street}{half + 1:03d}"
            j0, j1 = 2 * half, 2 * half + 2
            out.append(DesignRegion(community, COMMUNITIES[2 * s + half], "community", street, (street, community),
                                    _block_ring(i0, i1, j0, j1), rng.randrange(5_000, 12_000), "李书记"))
            n = 0
            for j in range(j0, j1):
                for i in range(i0, i1):
                    n += 1
                    code = f"{community}{n:03d}"
                    out.append(DesignRegion(code, f"{COMMUNITIES[2 * s + half]}第{n}网格", "grid", community,
                                            (street, community, code), _block_ring(i, i + 1, j, j + 1),
                                            rng.randrange(300, 1_500), f"网格员{n}号"))
    return out


class Geometries:
    """The design's polygons in CGCS2000 longitude/latitude and projected to a Gauss–Krüger CRS, and the
    projected ones carried back to WGS-84 independently (the test's reference)."""

    def __init__(self, regions: list[DesignRegion], seed: int = 5, crs: str = GK_ZONE_40) -> None:
        lattice = _lattice(seed)
        keys = list(lattice)
        lon, lat = np.array([lattice[k] for k in keys]).T
        east, north = Transformer.from_crs(CGCS2000, crs, always_xy=True).transform(lon, lat)
        projected = {k: (float(x), float(y)) for k, x, y in zip(keys, east, north, strict=True)}
        self.lonlat = {r.code: Polygon([lattice[k] for k in r.ring]) for r in regions}
        self.projected = {r.code: Polygon([projected[k] for k in r.ring]) for r in regions}
        back = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
        self.reference = {code: shapely.transform(g, lambda xy: np.column_stack(back.transform(xy[:, 0], xy[:, 1])))
                          for code, g in self.projected.items()}
        bad = [c for c, g in {**self.lonlat, **self.projected}.items() if not g.is_valid]
        assert not bad, f"the design made invalid polygons: {bad}"


def _columns(regions: list[DesignRegion], level_names: dict[str, str]) -> list[np.ndarray]:
    return [np.array([r.code for r in regions], dtype=object),
            np.array([r.name for r in regions], dtype=object),
            np.array([level_names.get(r.level, r.level) for r in regions], dtype=object),
            np.array([r.parent_code for r in regions], dtype=object),
            np.array([r.population for r in regions], dtype=np.int64),
            np.array([r.manager for r in regions], dtype=object)]


def write(path: Path, regions: list[DesignRegion], geoms: dict[str, BaseGeometry], *, crs: str | None,
          fields: list[str] = FIELDS_ZH, level_names: dict[str, str] = LEVEL_ZH, driver: str | None = None,
          layer: str | None = None, encoding: str | None = None, append: bool = False,
          geometry_type: str = "Polygon") -> Path:
    raw.write(str(path), np.array(shapely.to_wkb([geoms[r.code] for r in regions]), dtype=object),
              _columns(regions, level_names), fields, driver=driver, layer=layer, geometry_type=geometry_type, crs=crs,
              encoding=encoding, append=append)
    return path


def shapefile_parts(shp: Path) -> list[Path]:
    return sorted(p for p in shp.parent.iterdir() if p.stem == shp.stem)


def zip_shapefile(shp: Path, target: Path, folder: str = "") -> Path:
    """The Shapefile's parts in a zip, at the root or in a folder (as Windows' "send to zip" makes it)."""
    with zipfile.ZipFile(target, "w") as zf:
        for part in shapefile_parts(shp):
            zf.write(part, f"{folder}{part.name}")
    return target


def copy_without(shp: Path, target_dir: Path, *suffixes: str) -> Path:
    """The Shapefile copied into `target_dir` without the parts named (".prj", ".cpg")."""
    target_dir.mkdir(parents=True, exist_ok=True)
    for part in shapefile_parts(shp):
        if part.suffix not in suffixes:
            shutil.copy(part, target_dir / part.name)
    return target_dir / shp.name


def vertices(geoms: Iterable[BaseGeometry]) -> set[tuple[float, float]]:
    return {(float(x), float(y)) for g in geoms for x, y in shapely.get_coordinates(g)}


async def snapshot(session) -> dict[str, tuple]:
    result = await session.execute(text(
        "SELECT r.code, r.name, r.level, p.code AS parent, r.path, r.properties, ST_AsBinary(r.geom) AS g "
        "FROM regions r LEFT JOIN regions p ON p.id = r.parent_id"))
    return {r.code: (r.name, r.level, r.parent, tuple(r.path), r.properties, shapely.from_wkb(r.g)) for r in result}


def assert_same_rows(got: dict[str, tuple], want: dict[str, tuple]) -> None:
    assert sorted(got) == sorted(want)
    for code, (name, level, parent, path, props, geom) in want.items():
        assert got[code][:5] == (name, level, parent, path, props), code
        assert shapely.hausdorff_distance(got[code][5], geom) < SAME_DEG, code
        assert got[code][5].geom_type == "MultiPolygon"
