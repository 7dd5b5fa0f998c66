"""Statistics for a fixture of 200 incidents equal the figures computed by hand here; the ledger reads
back from XLSX (openpyxl) and CSV with the same figures; scoping and bad input."""

from __future__ import annotations

import csv
import io
import random
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from geoalchemy2 import WKTElement
from sqlalchemy.ext.asyncio import AsyncEngine

from command.core.models import Callback, Event, Incident, Order
from command.core.security import Principal
from command.reports import stats
from command.reports.ledger import COLUMNS, LEDGER_SHEET, STATS_SHEET
from tests import loop_world as w
from tests.environment import make_test_settings

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 3, 1, tzinfo=TZ)
END = datetime(2026, 5, 1, tzinfo=TZ)
H = timedelta(hours=1)
ADMIN = Principal(user_id=0, username="admin", role="admin")
GRIDS = ("D1S1C1G1", "D1S2C1G1", "D2S1C1G1")
DEPTS = ("water_co", "power_co", "roads_bureau")
SATISFIED = ("satisfied", "basically_satisfied")


@dataclass
class OrderSpec:
    dept: str | None  # None: a grid worker's order
    status: str
    accepted_h: float | None
    done_h: float | None = None
    reworked: bool = False


@dataclass
class Spec:
    category: str
    grid: str
    created: datetime
    status: str
    dispatched: bool
    orders: list[OrderSpec] = field(default_factory=list)
    resolved_h: float | None = None
    reworked: bool = False
    reopened: bool = False
    ratings: list[str] = field(default_factory=list)


def make_specs(seed: int = 4) -> list[Spec]:
    rnd = random.Random(seed)
    specs = []
    for i in range(200):
        created = START + timedelta(minutes=30) + i * 4 * H
        spec = Spec(category=rnd.choice(("road", "water", "petition", "noise")), grid=rnd.choice(GRIDS),
                    created=created, status="located", dispatched=False)
        specs.append(spec)
        if rnd.random() < 0.04:
            spec.status = "merged"
            continue
        if rnd.random() < 0.15:
            continue  # never dispatched
        spec.dispatched, spec.status = True, "dispatched"
        for dept in rnd.sample(DEPTS, rnd.choice((0, 1, 1, 2, 3))):
            accepted = rnd.choice((None, 1, 1, 3))
            if accepted is None:
                spec.orders.append(OrderSpec(dept, rnd.choice(("sent", "returned", "cancelled")), None))
            else:
                status = rnd.choice(("signed_for", "done", "done", "returned"))
                done = rnd.choice((48, 130)) if status == "done" else None
                spec.orders.append(OrderSpec(dept, status, accepted, done, reworked=status == "done"
                                             and rnd.random() < 0.2))
        if rnd.random() < 0.25:
            spec.orders.append(OrderSpec(None, rnd.choice(("accepted", "done")), 0.5))
        if rnd.random() < 0.6:
            spec.resolved_h = rnd.choice((50, 100, 140))
            spec.status = rnd.choice(("resolved", "verified", "closed"))
            spec.reworked = rnd.random() < 0.12
            if rnd.random() < 0.7:
                spec.ratings = [rnd.choice(("satisfied", "basically_satisfied", "dissatisfied"))
                                for _ in range(rnd.choice((1, 1, 2)))]
        else:
            spec.status = rnd.choice(("dispatched", "in_progress"))
        spec.reopened = rnd.random() < 0.08
    # Two outside the range: they must not count.
    specs.append(Spec("road", GRIDS[0], START - 5 * H, "located", False))
    specs.append(Spec("road", GRIDS[0], END + H, "located", False))
    return specs


async def load(sm, specs: list[Spec], worker_id: int) -> list[int]:
    ids = []
    async with sm() as s, s.begin():
        for spec in specs:
            lon, lat = w.POINTS[spec.grid]
            c = spec.created
            inc = Incident(public_id=uuid.uuid4(), category_code=spec.category, description="统计", priority=3,
                           status=spec.status, channel="app", lon=lon, lat=lat,
                           geom=WKTElement(f"POINT({lon} {lat})", srid=4326), region_code=spec.grid,
                           region_path=w.region_path(spec.grid), created_at=c, updated_at=c,
                           dispatched_at=c + H / 6 if spec.dispatched else None,
                           respond_due_at=c + 24 * H, resolve_due_at=c + 120 * H,
                           resolved_at=c + spec.resolved_h * H if spec.resolved_h else None)
            s.add(inc)
            await s.flush()
            ids.append(inc.id)
            for o in spec.orders:
                order = Order(incident_id=inc.id, assignee_kind="department" if o.dept else "worker",
                              department_code=o.dept, worker_id=None if o.dept else worker_id, status=o.status,
                              created_at=c, updated_at=c, ack_due_at=c + 2 * H, due_at=c + 120 * H,
                              accepted_at=c + o.accepted_h * H if o.accepted_h is not None else None,
                              done_at=c + o.done_h * H if o.done_h else None)
                s.add(order)
                await s.flush()
                if o.reworked:
                    s.add(Event(kind="order.rework", incident_id=inc.id, order_id=order.id, actor="t"))
            if spec.reworked:
                s.add(Event(kind="incident.rework", incident_id=inc.id, actor="t"))
            if spec.reopened:
                s.add(Event(kind="incident.reopened", incident_id=inc.id, actor="t"))
            for rating in spec.ratings:
                s.add(Callback(incident_id=inc.id, rating=rating, via="phone"))
                await s.flush()  # ids in order: the last rating is the latest
    return ids


def _bucket(created: datetime, period: str) -> str:
    d: date = created.astimezone(TZ).date()
    if period == "week":
        d -= timedelta(days=d.weekday())
    elif period == "month":
        d = d.replace(day=1)
    elif period == "half_month":
        d = d.replace(day=1 if d.day <= 15 else 16)
    return d.isoformat()


def expected(specs: list[Spec], group: str, *, period: str = "day", scope: str | None = None) -> dict[str, dict]:
    """The figures by hand, following the definitions in command/reports/stats.py."""
    out: dict[str, dict] = defaultdict(lambda: dict.fromkeys(stats.COUNTS, 0))
    for sp in specs:
        if sp.status == "merged" or not START <= sp.created < END:
            continue
        path = w.region_path(sp.grid)
        if scope and scope not in path:
            continue
        c = sp.created
        rated = bool(sp.ratings)
        happy = rated and sp.ratings[-1] in SATISFIED
        if group == "department":
            for o in sp.orders:
                if o.dept is None or o.status == "cancelled":
                    continue
                f = out[o.dept]
                on_sign = o.accepted_h is not None and o.accepted_h <= 2
                f["received"] += 1
                f["dispatched"] += 1
                f["sign_due"] += 1
                f["signed_on_time"] += on_sign
                f["responded_on_time"] += on_sign
                f["resolved"] += o.status == "done"
                f["resolved_on_time"] += o.status == "done" and o.done_h <= 120 and not o.reworked
                f["reworked"] += o.reworked
                f["rated"] += rated and o.status != "returned"
                f["satisfied"] += happy and o.status != "returned"
            continue
        key = {"total": "total", "category": sp.category, "period": _bucket(c, period),
               "region": path[len(w.region_path(scope)) if scope else 0]}[group]
        f = out[key]
        dept_orders = [o for o in sp.orders if o.dept and o.status != "cancelled"]
        accepted = [o.accepted_h for o in sp.orders if o.accepted_h is not None]
        responded = min(accepted) if accepted else sp.resolved_h
        f["received"] += 1
        f["dispatched"] += sp.dispatched
        f["sign_due"] += len(dept_orders)
        f["signed_on_time"] += sum(o.accepted_h is not None and o.accepted_h <= 2 for o in dept_orders)
        f["responded_on_time"] += responded is not None and responded <= 24
        f["resolved"] += sp.resolved_h is not None
        f["resolved_on_time"] += (sp.resolved_h is not None and sp.resolved_h <= 120 and not sp.reopened
                                  and not any(o.status == "returned" for o in sp.orders))
        f["reworked"] += sp.reworked
        f["rated"] += rated
        f["satisfied"] += happy
    return dict(out)


def _counts(rows: list[stats.Figures]) -> dict[str, dict]:
    return {r.key: {c: getattr(r, c) for c in stats.COUNTS} for r in rows}


@pytest.fixture
async def app(clean_db: AsyncEngine):
    # No sweeper: it would dispatch the generated `located` incidents while a slow test still reads them.
    async with w.loop_app(clean_db, make_test_settings(dispatch_background=False)) as app:
        app.specs = make_specs()
        app.ids = await load(app.sessionmaker, app.specs, app.world.worker_id)
        yield app


CASES = [("total", "day", None), ("category", "day", None), ("region", "day", None), ("region", "day", "D1"),
         ("department", "day", None), ("period", "day", None), ("period", "week", None),
         ("period", "half_month", None), ("period", "month", None), ("category", "day", "D2")]


async def test_figures_equal_hand_computed(app) -> None:
    async with app.sessionmaker() as session:
        for group, period, scope in CASES:
            q = stats.Query(start=START, end=END, group=group, period=period, region_code=scope)
            got = _counts(await stats.compute(session, principal=ADMIN, q=q))
            want = expected(app.specs, group, period=period, scope=scope)
            assert got == want, (group, period, scope)
        # The fixture exercises every figure.
        total = expected(app.specs, "total")["total"]
        assert total["received"] > 150 and all(total[c] > 0 for c in stats.COUNTS)
        assert len(expected(app.specs, "period", period="month")) == 2


async def test_rates_and_scope_over_http(app) -> None:
    c = app.client
    params = {"from": START.isoformat(), "to": END.isoformat()}
    r = await c.get("/api/v1/stats", params=params, headers=await app.as_("sup1"))  # region D1
    assert r.status_code == 200, r.text
    total = r.json()["total"]
    want = expected(app.specs, "total", scope="D1")["total"]
    assert {k: total[k] for k in stats.COUNTS} == want
    assert total["rates"]["resolution_rate"] == round(want["resolved"] / want["received"], 4)
    assert total["rates"]["satisfaction_rate"] == round(want["satisfied"] / want["rated"], 4)
    r = await c.get("/api/v1/stats", params=params | {"group": "region"}, headers=await app.as_("sup1"))
    assert {row["key"] for row in r.json()["rows"]} == {"D1S1", "D1S2"}
    bad = [
        (params | {"region": "D2"}, "sup1", 422),                              # outside the caller's region
        (params | {"region": "nowhere"}, "admin", 422),
        ({"from": END.isoformat(), "to": START.isoformat()}, "sup1", 422),
        ({"from": "2026-03-01T00:00:00", "to": "2026-03-02T00:00:00"}, "sup1", 422),  # no timezone
        ({"from": "2024-01-01T00:00:00+08:00", "to": END.isoformat()}, "sup1", 422),  # too long
        (params | {"group": "street"}, "sup1", 422),
        (params | {"period": "year"}, "sup1", 422),
        ({"to": END.isoformat()}, "sup1", 422),
        (params, "w1", 403),
        (params, "water", 403),
    ]
    for query, user, status in bad:
        r = await c.get("/api/v1/stats", params=query, headers=await app.as_(user))
        assert r.status_code == status, (query, r.text)
        assert "error" in r.json()
    assert (await c.get("/api/v1/stats", params=params)).status_code == 401


async def test_ledger_xlsx_and_csv_read_back(app) -> None:
    c = app.client
    params = {"from": START.isoformat(), "to": END.isoformat()}
    r = await c.get("/api/v1/ledger", params=params | {"format": "xlsx"}, headers=await app.as_("admin"))
    assert r.status_code == 200, r.text
    wb = openpyxl.load_workbook(io.BytesIO(r.content))
    sheet = wb[STATS_SHEET]
    header = [cell.value for cell in sheet[1]]
    read = {row[0]: dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2, values_only=True)}
    want = expected(app.specs, "category") | expected(app.specs, "total")
    assert {k: {c: v[c] for c in stats.COUNTS} for k, v in read.items()} == want
    assert read["total"]["on_time_rate"] == round(want["total"]["resolved_on_time"] / want["total"]["received"], 4)

    ledger = wb[LEDGER_SHEET]
    keys = [k for k, _ in COLUMNS]
    rows = [dict(zip(keys, row, strict=True)) for row in ledger.iter_rows(min_row=2, values_only=True)]
    in_range = [(i, sp) for i, sp in zip(app.ids, app.specs, strict=True)
                if sp.status != "merged" and START <= sp.created < END]
    assert [r["id"] for r in rows] == [i for i, _ in in_range]
    for row, (_, sp) in zip(rows, in_range, strict=True):
        assert row["status"] == sp.status
        assert (row["satisfaction"] or None) == (sp.ratings[-1] if sp.ratings else None)
        assert row["reworks"] == int(sp.reworked) and row["reopens"] == int(sp.reopened)
        assert row["created_at"] == sp.created.astimezone(TZ).strftime("%Y-%m-%d %H:%M:%S")
        live = [o for o in sp.orders if o.status not in ("cancelled", "returned", "declined", "timed_out")]
        assert bool(row["responsible"]) == bool(live)

    r = await c.get("/api/v1/ledger", params=params | {"format": "csv"}, headers=await app.as_("op2"))  # D2 only
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    text = r.content.decode("utf-8-sig")
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed[0] == [h for _, h in COLUMNS]
    d2 = [i for i, sp in in_range if sp.grid.startswith("D2")]
    assert [int(row[0]) for row in parsed[1:]] == d2
    for query, status in ((params | {"format": "pdf"}, 422), ({"from": START.isoformat()}, 422),
                          (params | {"region": "D1"}, 422)):
        r = await c.get("/api/v1/ledger", params=query, headers=await app.as_("op2"))
        assert r.status_code == status, (query, r.text)


async def test_the_ledger_streams_in_batches_and_loses_no_row_at_their_seams(app, monkeypatch) -> None:
    """The export reads a server-side cursor in batches (CSV goes out one chunk per batch, XLSX is appended batch
    by batch): with batches of 7 rows, both files hold every row of the range once, in id order."""
    from command.reports import ledger

    monkeypatch.setattr(ledger, "BATCH_ROWS", 7)
    c, admin = app.client, await app.as_("admin")
    params = {"from": START.isoformat(), "to": END.isoformat()}
    want = [i for i, sp in zip(app.ids, app.specs, strict=True) if sp.status != "merged" and START <= sp.created < END]
    assert len(want) > 7 * 5
    async with app.sessionmaker() as s:  # one chunk per batch (httpx's in-process transport joins them)
        batches = ledger.stream_rows(s, principal=Principal(user_id=0, username="a", role="admin"), start=START,
                                     end=END)
        chunks = [chunk async for chunk in ledger.csv_chunks(batches, TZ)]
    assert len(chunks) == -(-len(want) // 7)
    r = await c.get("/api/v1/ledger", params=params | {"format": "csv"}, headers=admin)
    assert r.status_code == 200 and r.content == b"".join(chunks)
    parsed = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert [int(row[0]) for row in parsed[1:]] == want
    r = await c.get("/api/v1/ledger", params=params | {"format": "xlsx"}, headers=admin)
    sheet = openpyxl.load_workbook(io.BytesIO(r.content))[LEDGER_SHEET]
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == want
    assert sheet.freeze_panes == "A2"
