"""WGS-84 ↔ GCJ-02 ↔ BD-09 against reference pairs published in the test suites of well-known libraries."""

from __future__ import annotations

import random

import pytest

from geo.coords import (
    Crs,
    bd09_to_gcj02,
    from_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    to_wgs84,
    wgs84_to_gcj02,
)

# Pairs computed by the published algorithm, from the libraries' own tests (exact to ~1e-12).
# coordtransform (wandergis, test/app.js), input (116.404, 39.915) near Tiananmen:
COORDTRANSFORM_WGS_TO_GCJ = ((116.404, 39.915), (116.41024449916938, 39.91640428150164))
COORDTRANSFORM_GCJ_TO_BD = ((116.404, 39.915), (116.41036949371029, 39.92133699351021))
COORDTRANSFORM_BD_TO_GCJ_APPROX = ((116.404, 39.915), (116.39762729119315, 39.90865673957631))
COORDTRANSFORM_GCJ_TO_WGS_ONE_STEP = ((116.404, 39.915), (116.39775550083061, 39.91359571849836))
# eviltransform (googollee, python/test.py): (wgs lon, lat) → (gcj lon, lat)
EVILTRANSFORM_WGS_GCJ = [
    ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),  # Shanghai
    ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),  # Shenzhen
    ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),  # Beijing
]
# gcoord (hujiulong, test/unit/crs/WGS84.spec.ts), checked there to 5e-6:
GCOORD_WGS = (123.0, 45.0)
GCOORD_GCJ = (123.00607541, 45.00197815)
GCOORD_BD = (123.0124491, 45.0083293)
# gcoord test/fixtures/china-cities.json: WGS84 / GCJ02 / BD09 triples of city centres, given to 7 decimals
# and compared there to 4-6 decimals (they come from map services, not only from the formula).
CITIES = {
    "驻马店": ((114.0164322, 33.0133556), (114.022306, 33.0115324), (114.0287781, 33.0176697)),
    "邵阳": ((111.4622119, 27.242124), (111.4677938, 27.2388981), (111.4742271, 27.2451662)),
    "那曲": ((92.0499619, 31.4784436), (92.0512438, 31.4762063), (92.0576832, 31.4824421)),
    "沈阳": ((123.4253306, 41.8032629), (123.4314787, 41.8057023), (123.438095, 41.8114013)),
    "泰州": ((119.9183831, 32.4580023), (119.9231242, 32.4557802), (119.9296902, 32.4615531)),
}


def close(a: tuple[float, float], b: tuple[float, float], tol: float) -> bool:
    return abs(a[0] - b[0]) <= tol and abs(a[1] - b[1]) <= tol


def test_wgs_to_gcj_matches_coordtransform_and_eviltransform() -> None:
    src, want = COORDTRANSFORM_WGS_TO_GCJ
    assert close(wgs84_to_gcj02(*src), want, 1e-12)
    for wgs, gcj in EVILTRANSFORM_WGS_GCJ:
        assert close(wgs84_to_gcj02(*wgs), gcj, 1e-12)
        assert close(from_wgs84(*wgs, Crs.gcj02), gcj, 1e-12)


def test_gcj_to_bd_matches_coordtransform_and_gcoord() -> None:
    src, want = COORDTRANSFORM_GCJ_TO_BD
    assert close(gcj02_to_bd09(*src), want, 1e-12)
    assert close(from_wgs84(*GCOORD_WGS, "gcj02"), GCOORD_GCJ, 5e-6)
    assert close(from_wgs84(*GCOORD_WGS, "bd09"), GCOORD_BD, 5e-6)


def test_bd_to_gcj_refines_the_published_closed_form() -> None:
    src, approx = COORDTRANSFORM_BD_TO_GCJ_APPROX
    got = bd09_to_gcj02(*src)
    assert close(got, approx, 1e-6)  # the published inverse is within ~0.1 m…
    assert close(gcj02_to_bd09(*got), src, 1e-9)  # …and ours is exact: forward maps it back to the input


def test_gcj_to_wgs_is_exact_not_the_one_step_approximation() -> None:
    src, one_step = COORDTRANSFORM_GCJ_TO_WGS_ONE_STEP
    got = gcj02_to_wgs84(*src)
    assert close(got, one_step, 1e-5)
    assert close(wgs84_to_gcj02(*got), src, 1e-9)
    # The crude inverse misses by more than our 1e-7° bar; that is why we iterate.
    assert not close(wgs84_to_gcj02(*one_step), src, 1e-7)
    for wgs, gcj in EVILTRANSFORM_WGS_GCJ:
        assert close(to_wgs84(*gcj, Crs.gcj02), wgs, 1e-7)


@pytest.mark.parametrize("city", sorted(CITIES))
def test_city_triples_from_gcoord(city: str) -> None:
    wgs, gcj, bd = CITIES[city]
    assert close(from_wgs84(*wgs, "gcj02"), gcj, 5e-5)
    assert close(from_wgs84(*wgs, "bd09"), bd, 5e-5)
    assert close(to_wgs84(*gcj, "gcj02"), wgs, 5e-5)
    assert close(to_wgs84(*bd, "bd09"), wgs, 5e-5)


def test_round_trips_within_1e_7_degrees() -> None:
    rng = random.Random(42)
    for _ in range(2000):
        p = (rng.uniform(73.5, 135.0), rng.uniform(18.0, 53.5))
        for crs in Crs:
            assert close(to_wgs84(*from_wgs84(*p, crs), crs), p, 1e-7), (p, crs)
        assert close(bd09_to_gcj02(*gcj02_to_bd09(*p)), p, 1e-7)


def test_outside_china_is_unshifted() -> None:
    for p in [(2.3522, 48.8566), (-74.006, 40.7128), (139.6917, 35.6895), (151.2093, -33.8688)]:
        assert from_wgs84(*p, Crs.gcj02) == p
        assert to_wgs84(*p, Crs.gcj02) == p
        assert close(to_wgs84(*from_wgs84(*p, Crs.bd09), Crs.bd09), p, 1e-7)
    assert to_wgs84(116.4, 39.9, "wgs84") == (116.4, 39.9)


def test_unknown_crs_is_refused() -> None:
    with pytest.raises(ValueError):
        to_wgs84(116.4, 39.9, "epsg3857")
