"""Data for the assessment tests: the statistics fixture (tests/reports/test_loop_stats.py: 200 incidents with
orders, reworks, reopenings, ratings) plus overdue deadlines, supervisions, closings, a worker's patrol reports
and position track; and the figures of every unit computed by hand from these rows."""

from __future__ import annotations

import itertools
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from geoalchemy2 import WKTElement
from sqlalchemy import select, text

from command.core.models import Deadline, Event, Incident, Order
from tests import loop_world as w
from tests.reports.test_loop_stats import SATISFIED, TZ, Spec, load, make_specs

H = timedelta(hours=1)
LEVEL_DEPTH = {"district": 0, "street": 1, "community": 2, "grid": 3}


@dataclass
class Extra:
    """What the tests add to each spec, by its index."""

    overdue: set[int] = field(default_factory=set)          # an incident deadline went overdue
    order_overdue: set[int] = field(default_factory=set)    # (incident index) its first department order's did
    supervisions: dict[int, int] = field(default_factory=dict)
    self_found: list[datetime] = field(default_factory=list)  # the worker's patrol reports
    track: list[tuple[datetime, float, float]] = field(default_factory=list)


@dataclass
class World:
    specs: list[Spec]
    ids: list[int]
    extra: Extra
    worker_id: int
    self_found_ids: list[int] = field(default_factory=list)


async def build(sm, world: w.World, start: datetime) -> World:  # type: ignore[no-untyped-def]
    specs = make_specs()
    ids = await load(sm, specs, world.worker_id)
    extra = Extra(overdue={k for k in range(len(specs)) if k % 7 == 0},
                  order_overdue={k for k in range(len(specs)) if k % 5 == 1},
                  supervisions={k: 1 + k % 2 for k in range(len(specs)) if k % 6 == 0},
                  self_found=[start + timedelta(days=d, hours=3) for d in (1, 4, 9)],
                  track=[])
    t0 = start + timedelta(days=2, hours=1)
    for n in range(40):  # a report a minute, then a 10-minute gap (not on duty), then 20 more
        t = t0 + timedelta(minutes=n if n < 20 else n + 10)
        extra.track.append((t, 120.05 + 0.001 * n, 30.05))
    out = World(specs, ids, extra, world.worker_id)
    async with sm() as s, s.begin():
        now = datetime(2026, 12, 1, tzinfo=TZ)
        for k, inc_id in enumerate(ids):
            if k in extra.overdue:
                s.add(Deadline(key=f"t:{inc_id}:resolve", incident_id=inc_id, kind="resolve", due_at=now,
                               overdue_at=now))
            if k in extra.order_overdue:
                first = await s.scalar(select(Order.id).where(Order.incident_id == inc_id,
                                                              Order.assignee_kind == "department")
                                       .order_by(Order.id).limit(1))
                if first is None:
                    extra.order_overdue.discard(k)
                else:
                    s.add(Deadline(key=f"t:{inc_id}:o{first}", incident_id=inc_id, order_id=first, kind="sign_for",
                                   due_at=now, overdue_at=now))
            for _ in range(extra.supervisions.get(k, 0)):
                s.add(Event(kind="supervision.raised", incident_id=inc_id, actor="t"))
        lon, lat = w.POINTS["D1S1C1G1"]
        for c in extra.self_found:
            inc = Incident(public_id=uuid.uuid4(), category_code="road", description="巡查发现", priority=3,
                           status="located", channel="patrol", lon=lon, lat=lat,
                           geom=WKTElement(f"POINT({lon} {lat})", srid=4326), region_code="D1S1C1G1",
                           region_path=w.region_path("D1S1C1G1"), created_at=c, updated_at=c,
                           created_by=world.users["w1"])
            s.add(inc)
            await s.flush()
            out.self_found_ids.append(inc.id)
        for t, x, y in extra.track:
            await s.execute(text("INSERT INTO worker_positions (worker_id, ts, lon, lat) VALUES (:w, :t, :x, :y)"),
                            {"w": world.worker_id, "t": t, "x": x, "y": y})
    return out


def _first_dept(sp: Spec) -> int | None:
    for n, o in enumerate(sp.orders):
        if o.dept is not None:
            return n
    return None


def hand_sums(world: World, level: str, start: datetime, end: datetime,
              scope: str | None = None) -> dict[str, dict[str, float]]:
    """unit → column → sum, from the rows, following the definitions in command/reports/assessment_indices.py."""
    out: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    ex = world.extra
    for k, sp in enumerate(world.specs):
        if sp.status == "merged" or not start <= sp.created < end:
            continue
        path = w.region_path(sp.grid)
        if scope and scope not in path:
            continue
        rated = bool(sp.ratings)
        happy = rated and sp.ratings[-1] in SATISFIED
        sup = ex.supervisions.get(k, 0)
        closed = sp.status == "closed"
        if level in LEVEL_DEPTH:
            f = out[path[LEVEL_DEPTH[level]]]
            dept = [o for o in sp.orders if o.dept and o.status != "cancelled"]
            resolved = sp.resolved_h is not None
            f["received"] += 1
            f["sign_due"] += len(dept)
            f["signed"] += sum(o.accepted_h is not None for o in dept)
            f["signed_on_time"] += sum(o.accepted_h is not None and o.accepted_h <= 2 for o in dept)
            f["resolved"] += resolved
            f["resolved_on_time"] += (resolved and sp.resolved_h <= 120 and not sp.reopened  # type: ignore[operator]
                                      and not any(o.status == "returned" for o in sp.orders))
            f["reworked"] += sp.reworked
            f["disposed"] += resolved or sp.reworked
            f["overdue"] += k in ex.overdue or k in ex.order_overdue
            f["closed"] += closed
            f["rated"] += rated
            f["satisfied"] += happy
            f["callback_due"] += resolved or rated
            f["supervisions"] += sup
            continue
        first = _first_dept(sp)
        for n, o in enumerate(sp.orders):
            if o.status == "cancelled" or (o.dept is None) != (level == "worker"):
                continue
            f = out[o.dept or str(world.worker_id)]
            done = o.status == "done"
            counted_rating = rated and o.status != "returned"
            f["received"] += 1
            f["sign_due"] += 1
            f["signed"] += o.accepted_h is not None
            f["signed_on_time"] += o.accepted_h is not None and o.accepted_h <= 2
            f["resolved"] += done
            f["resolved_on_time"] += done and o.done_h is not None and o.done_h <= 120 and not o.reworked
            f["reworked"] += o.reworked
            f["disposed"] += done or o.reworked
            f["overdue"] += k in ex.order_overdue and n == first
            f["closed"] += closed
            f["rated"] += counted_rating
            f["satisfied"] += happy and o.status != "returned"
            f["callback_due"] += done or counted_rating
            f["supervisions"] += sup
    if level in LEVEL_DEPTH and (scope is None or scope in w.region_path("D1S1C1G1")):
        # The worker's patrol reports are incidents like any other: received, nothing else yet.
        found = sum(start <= c < end for c in ex.self_found)
        if found:
            out[w.region_path("D1S1C1G1")[LEVEL_DEPTH[level]]]["received"] += found
    if level == "worker" and (scope is None or scope in w.region_path("D1S1C1G1")):
        f = out[str(world.worker_id)]
        f["self_found"] += sum(start <= c < end for c in ex.self_found)
        pts = [p for p in ex.track if start <= p[0] < end]
        for (t0, x0, y0), (t1, x1, y1) in itertools.pairwise(pts):
            if t1 - t0 <= timedelta(minutes=5):
                f["duty_s"] += (t1 - t0).total_seconds()
                f["patrol_m"] += _metres(x0, y0, x1, y1)
    return {u: dict(v) for u, v in out.items()}


def _metres(x0: float, y0: float, x1: float, y1: float) -> float:
    """Geodesic distance on WGS-84 (pyproj), what PostGIS's geography distance computes."""
    from pyproj import Geod

    return float(Geod(ellps="WGS84").inv(x0, y0, x1, y1)[2])


def hand_score(scheme: list[dict], sums: dict[str, float], days: int) -> float | None:  # type: ignore[type-arg]
    """The score by the formula of docs/assessment.md, written out again."""
    from command.reports.assessment_indices import BY_CODE

    got = wsum = 0.0
    for item in scheme:
        index = BY_CODE[item["code"]]
        num = sums.get(index.num, 0.0)
        if index.kind == "quantity":
            part = min(1.0, num * index.scale / (item["target"] * days))
        else:
            den = sums.get(index.den or "", 0.0)
            if not den:
                continue
            value = num / den
            part = value if item["direction"] == "up" else 1 - value
        wsum += item["weight"]
        got += item["weight"] * part
    return round(100 * got / wsum, 2) if wsum else None
