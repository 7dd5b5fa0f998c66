"""Shared pieces of the admin console's tests: a new street's region file (GeoJSON) beside the loop world, and a
worker sheet for it."""

from __future__ import annotations

import io
import json

from openpyxl import Workbook

# A new street under district D2, east of the loop world's regions: a community and two grids.
STREET = "D2S9"
GRIDS = ("D2S9C1G1", "D2S9C1G2")
INSIDE = (120.25, 30.15)  # in grid D2S9C1G1


def _box(x0: float, y0: float, x1: float, y1: float) -> list:
    return [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]


def _feature(code: str, name: str, level: str, parent: str, box: tuple[float, float, float, float]) -> dict:
    return {"type": "Feature", "properties": {"code": code, "name": name, "level": level, "parent_code": parent},
            "geometry": {"type": "Polygon", "coordinates": _box(*box)}}


def street_file(*, bad: bool = False) -> bytes:
    features = [
        _feature(STREET, "新河街道", "street", "D2", (120.20, 30.10, 120.30, 30.20)),
        _feature("D2S9C1", "新河社区", "community", STREET, (120.20, 30.10, 120.30, 30.20)),
        _feature(GRIDS[0], "新河一网格", "grid", "D2S9C1", (120.20, 30.10, 120.30, 30.20)),
        _feature(GRIDS[1], "新河二网格", "grid", "D2S9C1", (120.30, 30.10, 120.35, 30.20)),
    ]
    if bad:  # one feature's ring is not closed and too short: an invalid polygon
        features[3]["geometry"]["coordinates"] = [[[120.30, 30.10], [120.35, 30.10]]]
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False).encode()


WORKER_ROWS = [
    ("用户名", "密码", "姓名", "电话", "角色", "网格员类型", "网格", "最大负载", "值班时间"),
    ("xh_leader", "secret-pw", "张网格长", "13800000001", "worker", "网格长", GRIDS[0], 3, "08:00-20:00"),
    ("xh_micro", "secret-pw", "李微网格员", "13800000002", "worker", "微网格员", GRIDS[0], 1, "09:00-17:00"),
    ("xh_part", "", "王兼职", "13800000003", "worker", "兼职网格员", GRIDS[1], 2, ""),
]


def xlsx(rows: list[tuple]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
