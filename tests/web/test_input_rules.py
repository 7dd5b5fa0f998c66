"""Bad input never reaches PostgreSQL (issue 13, item 7): control characters in any text or query value, ids past
their column's range, dates past year 9999 after a zone shift, booleans as numbers, descriptions of invisible
characters, bodies that do not parse — each a 4xx in the app's one error shape, nothing stored. Also the shape of
Starlette's own refusals, and ledger cells that a spreadsheet would run as formulas."""

from __future__ import annotations

import csv
import inspect
import io
import time
from datetime import UTC, datetime, timedelta
from typing import Annotated, get_origin, get_type_hints

import orjson
import pytest
from fastapi.params import Param
from fastapi.routing import APIRoute, iter_route_contexts
from openpyxl import load_workbook
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from command.core.models import Department, HotlineCategory
from command.intake.channels.hotline_sign import sign
from tests import loop_world as w
from tests.environment import MUTABLE_TABLES, make_test_settings
from web.app import create_app
from web.openapi_errors import ERROR_SCHEMA_NAME
from web.request_types import TEXT_PATTERN, check_line, check_text, is_blank
from web.ws_frames import FrameError, parse

SECRET = "hotline-test-secret"
pytestmark = pytest.mark.timeout(120)


@pytest.fixture
async def app(clean_db: AsyncEngine, redis, tmp_path):
    settings = make_test_settings(upload_dir=str(tmp_path / "up"), hotline_secret=SECRET, resident_rate_per_min=1000)
    async with w.loop_app(clean_db, settings) as app:
        async with app.sessionmaker() as s, s.begin():
            s.add(HotlineCategory(their_code="0301", category_code="water"))
        yield app


async def _rows(app) -> dict[str, int]:
    async with app.sessionmaker() as s:
        return {t: await s.scalar(text(f"SELECT count(*) FROM {t}")) for t in MUTABLE_TABLES}


def _shape(r) -> dict:
    body = r.json()
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"]), r.text
    return body["error"]


def test_every_parameter_keeps_its_type() -> None:
    """`x: SafeLine = Query(...)` silently drops SafeLine's validators in FastAPI (only `Annotated[SafeLine,
    Query(...)]` or `SafeLine | None = Query(...)` keep them): no route may declare a parameter that way."""
    app = create_app(make_test_settings())
    checked = 0
    for context in iter_route_contexts(app.routes):
        endpoint = getattr(context, "endpoint", None)
        if not isinstance(context.original_route, APIRoute) or endpoint is None:
            continue
        hints = get_type_hints(endpoint, include_extras=True)
        for name, param in inspect.signature(endpoint).parameters.items():
            hint = hints.get(name)
            if isinstance(param.default, Param) and get_origin(hint) is Annotated:
                pytest.fail(f"{context.path}: parameter {name} = {type(param.default).__name__}(…) drops the "
                            f"validators of {hint}; write Annotated[{name}'s type, {type(param.default).__name__}(…)]")
            checked += 1
    assert checked > 100


def test_every_operation_documents_its_error_statuses_with_the_one_schema() -> None:
    schema = create_app(make_test_settings()).openapi()
    ops = {(m.upper(), p): op for p, item in schema["paths"].items() for m, op in item.items()}
    assert len(ops) >= 69
    for (_, path), op in ops.items():
        for status, response in op["responses"].items():
            if int(status) >= 400:
                assert response["content"]["application/json"]["schema"] == {"$ref": f"#/components/schemas/"
                                                                                     f"{ERROR_SCHEMA_NAME}"}, path
    assert set(ops["POST", "/api/v1/alerts"]["responses"]) == {"200", "201", "400", "401", "403", "409", "413", "422",
                                                               "503"}
    assert set(ops["GET", "/api/v1/orders/{order_id}"]["responses"]) == {"200", "401", "403", "404", "422", "503"}
    assert {"200", "409"} <= set(ops["POST", "/api/v1/orders/{order_id}/notes"]["responses"])  # replay, key reuse
    assert "429" in ops["POST", "/api/v1/public/requests"]["responses"]
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    assert schema["paths"]["/api/v1/alerts"]["post"]["requestBody"]
    description = schema["components"]["schemas"]["AlertBody"]["properties"]["description"]
    assert description["pattern"] == TEXT_PATTERN


def test_websocket_frames_obey_the_same_rules() -> None:
    for frame in ({"type": "subscribe", "region": "D1\x00"}, {"type": "position", "lon": True, "lat": 30.0},
                  {"type": "position", "lon": 120.0, "lat": 30.0, "ts": "9999-12-31T23:00:00-14:00"}):
        with pytest.raises(FrameError) as refused:
            parse({"text": orjson.dumps(frame).decode()}, max_bytes=65536)
        assert refused.value.code == "bad_frame" and refused.value.close_code is None


def test_the_character_rules() -> None:
    assert check_text("第一行\n\t第二行\r\n") == "第一行\n\t第二行\r\n"
    for bad in ("a\x00b", "a\x07", "\x1b[31m", "a\x7f", "a\x85b", "a\x9b", "\ud800"):
        with pytest.raises(ValueError):
            check_text(bad)
    for bad in ("a\nb", "a\tb", "a\u2028b", "a\x00"):
        with pytest.raises(ValueError):
            check_line(bad)
    assert check_line("D1S1C1G1 (东区)") == "D1S1C1G1 (东区)"
    for blank in ("\u200b\u200b", " \u3000\u00a0", "\ufeff\u2060\u200d", "\u3164", "\u0301"):
        assert is_blank(blank), repr(blank)
    for seen in ("水", "a\u200b", "·"):
        assert not is_blank(seen)


async def test_bad_values_are_refused_at_the_edge_and_change_nothing(app) -> None:
    c = app.client
    op, sup, worker, water = [await app.as_(u) for u in ("op1", "sup1", "w1", "water")]
    async with app.sessionmaker() as s, s.begin():
        inc = await w.incident(s, grid="D1S1C1G1", status="dispatched")
        order = await w.order(s, inc, department="water_co", status="accepted")
    lon, lat = w.POINTS["D1S1C1G1"]
    alert = {"category": "water", "description": "水管爆裂", "lon": lon, "lat": lat, "channel": "hotline"}
    resident = {"category": "road", "description": "路灯坏了", "lon": lon, "lat": lat}
    far = "9999-12-01T00:00:00+14:00"
    cases: list[tuple[str, str, dict, dict, str]] = [
        # NUL and other control characters, in bodies …
        ("POST", "/api/v1/alerts", op, {"json": alert | {"description": "水管\x00爆裂"}}, "description"),
        ("POST", "/api/v1/alerts", op, {"json": alert | {"category": "wa\x00ter"}}, "category"),
        ("POST", "/api/v1/alerts", op, {"json": alert | {"external_id": "T\x00-1"}}, "external_id"),
        ("POST", "/api/v1/alerts", op, {"json": alert | {"reporter": {"name": "王\x1b[2J"}}}, "name"),
        ("POST", "/api/v1/alerts", op, {"json": alert | {"description": "a\x85b"}}, "description"),  # C1
        ("POST", "/api/v1/public/requests", {}, {"json": resident | {"phone": "138\x00"}}, "phone"),
        ("POST", f"/api/v1/dept/orders/{order.id}/notes", water, {"json": {"text": "进\x00展"}}, "text"),
        ("POST", f"/api/v1/incidents/{inc.id}/transfer", op, {"json": {"region_code": "D1\x00", "reason": "x"}},
         "region_code"),
        ("POST", "/api/v1/patrol/tasks", op, {"json": {"grid_code": "D1S1C1G1", "title": "巡\x00查",
                                                       "visit_weekday": 1}}, "title"),
        ("PUT", "/api/v1/hotline/12345/categories", await app.as_("admin"),
         {"json": {"their_code": "03\x0001", "category_code": "water"}}, "their_code"),
        # … in query values (typed or not) and form fields (the login form)
        ("GET", "/api/v1/workers", op, {"params": {"region": "D1\x00"}}, "region"),
        ("GET", "/api/v1/dept/orders", sup, {"params": {"department": "water_co\x00"}}, "department"),
        ("GET", "/api/v1/stats", sup, {"params": {"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z",
                                                  "region": "D\x001"}}, "region"),
        ("GET", "/api/v1/incidents", op, {"params": {"anything": "x\x00"}}, "anything"),
        ("POST", "/api/v1/auth/token", {}, {"data": {"username": "op1\x00", "password": w.PASSWORD}}, "username"),
        # lone surrogates (JSON can spell them; UTF-8 cannot store them), as values and as keys
        ("POST", "/api/v1/alerts", op | {"content-type": "application/json"},
         {"content": orjson.dumps(alert)[:-1] + b', "description": "\\ud800"}'}, "description"),
        ("POST", "/api/v1/alerts", op | {"content-type": "application/json"},
         {"content": b'{"\\udc00": 1}'}, "body"),
        # ids past their column
        ("GET", "/api/v1/orders/55114783361801469952", op, {}, "order_id"),
        ("GET", "/api/v1/incidents", op, {"params": {"before_id": str(2**63)}}, "before_id"),
        ("POST", f"/api/v1/incidents/{inc.id}/merge", op, {"json": {"into_id": 2**63}}, "into_id"),
        ("POST", f"/api/v1/incidents/{inc.id}/dispatch", op, {"json": {"worker_id": 2**31}}, "worker_id"),
        ("POST", "/api/v1/supervision/extensions/2147483648/grant", sup, {"json": {}}, "request_id"),
        ("POST", f"/api/v1/incidents/{inc.id}/rework", op, {"json": {"reason": "x", "order_ids": [2**64]}},
         "order_ids"),
        # dates out of the window (a zone shift took them past year 9999)
        ("GET", "/api/v1/ledger", sup, {"params": {"from": far, "to": "9999-12-31T23:59:59-14:00"}}, "from"),
        ("GET", "/api/v1/stats", sup, {"params": {"from": far, "to": far}}, "from"),
        ("GET", "/api/v1/patrol/visits", worker, {"params": {"from": "9999-12-31"}}, "from"),
        ("POST", "/api/v1/patrol/plan", op, {"json": {"start": "9999-12-31", "days": 7}}, "start"),
        ("POST", f"/api/v1/dept/orders/{order.id}/extensions", water,
         {"json": {"reason": "x", "due_at": "9999-12-31T23:00:00-14:00"}}, "due_at"),
        ("POST", "/api/v1/workers/me/position", worker, {"json": {"lon": lon, "lat": lat, "ts": 1e15}}, "ts"),
        # booleans and strings are not numbers
        ("POST", "/api/v1/alerts", op, {"json": alert | {"lon": True}}, "lon"),
        ("POST", "/api/v1/alerts", op, {"json": alert | {"lat": "30.05"}}, "lat"),
        ("POST", "/api/v1/alerts", op, {"json": alert | {"priority": True}}, "priority"),
        ("POST", "/api/v1/public/requests", {}, {"json": resident | {"lon": False}}, "lon"),
        ("POST", "/api/v1/workers/me/position", worker, {"json": {"lon": True, "lat": lat}}, "lon"),
        ("POST", f"/api/v1/incidents/{inc.id}/dispatch", op, {"json": {"worker_id": True}}, "worker_id"),
        # descriptions that say nothing
        ("POST", "/api/v1/alerts", op, {"json": alert | {"description": "\u200b\u200b\u200b"}}, "description"),
        ("POST", "/api/v1/public/requests", {}, {"json": resident | {"description": "\u3000\ufeff\u2060"}},
         "description"),
        ("POST", f"/api/v1/incidents/{inc.id}/supervise", op, {"json": {"reason": "\u200d"}}, "reason"),
        # an empty code that passed `if body.category_code` and hit the foreign key (a 500 before)
        ("POST", "/api/v1/supervision/deadline-rules", sup, {"json": {"kind": "resolve", "category_code": "",
                                                                      "limit_s": 60}}, "category_code"),
        # bodies that do not parse or are not JSON
        ("POST", "/api/v1/alerts", op | {"content-type": "application/json"}, {"content": b"{bad"}, "body"),
        ("POST", "/api/v1/alerts", op | {"content-type": "text/plain"}, {"content": orjson.dumps(alert)}, "body"),
        ("POST", "/api/v1/alerts", op, {"data": {"category": "water"}}, "body"),
    ]
    before = await _rows(app)
    for method, url, headers, kwargs, field in cases:
        r = await c.request(method, url, headers=headers, **kwargs)
        assert r.status_code == 422, (method, url, kwargs, r.status_code, r.text)
        error = _shape(r)
        assert error["code"] == "invalid_input"
        if field != "body":
            assert field in r.text, (url, field, r.text)
    assert await _rows(app) == before


async def test_the_longest_idempotency_key_fits_with_its_scope(app) -> None:
    # Stored as "<scope>:<key>": a 128-character key overflowed varchar(128) (a 500 before migration 0010).
    lon, lat = w.POINTS["D1S1C1G1"]
    alert = {"category": "water", "description": "水管爆裂", "lon": lon, "lat": lat, "channel": "app"}
    key = {"Idempotency-Key": "k" * 128}
    first = await app.client.post("/api/v1/alerts", headers=await app.as_("op1") | key, json=alert)
    again = await app.client.post("/api/v1/alerts", headers=await app.as_("op1") | key, json=alert)
    assert (first.status_code, again.status_code) == (201, 200) and first.json()["id"] == again.json()["id"]
    too_long = await app.client.post("/api/v1/alerts", headers=await app.as_("op1") | {"Idempotency-Key": "k" * 129},
                                     json=alert)
    assert too_long.status_code == 422 and _shape(too_long)["code"] == "invalid_input"


async def test_a_12345_work_order_with_a_control_character_is_refused(app) -> None:
    lon, lat = w.POINTS["D1S1C1G1"]
    body = {"id": "BJ\x00-1", "category": "0301", "description": "停水", "lon": lon, "lat": lat,
            "deadline": (datetime.now(UTC) + timedelta(days=1)).isoformat()}
    before = await _rows(app)
    for order in (body, body | {"id": "BJ-1", "lon": True}, body | {"id": "BJ-1", "description": "\u200b"}):
        raw, ts = orjson.dumps(order), int(time.time())
        r = await app.client.post("/api/v1/hotline/12345/orders", content=raw, headers={
            "X-Timestamp": str(ts), "X-Signature": sign(SECRET, ts, raw), "Content-Type": "application/json"})
        assert r.status_code == 422 and _shape(r)["code"] == "invalid_input", r.text
    assert await _rows(app) == before


async def test_starlettes_own_refusals_have_the_error_shape(app) -> None:
    c, op = app.client, await app.as_("op1")
    r = await c.get("/api/v1/no-such-thing", headers=op)
    assert r.status_code == 404 and _shape(r)["code"] == "route_not_found"  # no endpoint, not "no such thing"
    r = await c.get("/api/v1/orders/999999", headers=op)
    assert r.status_code == 404 and _shape(r)["code"] == "not_found"
    r = await c.delete("/api/v1/alerts", headers=op)
    assert r.status_code == 405 and _shape(r)["code"] == "method_not_allowed" and "POST" in r.headers["allow"]
    r = await c.post("/api/v1/uploads", headers=op | {"content-type": "multipart/form-data; boundary=x"},
                     content=b"--y\r\ngarbage")
    assert r.status_code in (400, 422) and _shape(r)["code"] in ("bad_request", "invalid_input")
    r = await c.get("/static/no-such-file.js")
    assert r.status_code == 404 and _shape(r)["code"] == "route_not_found"


async def test_ledger_cells_are_never_formulas(app) -> None:
    c = app.client
    created = datetime.now(UTC) - timedelta(hours=1)
    async with app.sessionmaker() as s, s.begin():
        s.add(Department(code="=cmd|'/c calc'!A1", name="@SUM(1+1)*cmd", kind="water", region_code="D1"))
        await s.flush()
        inc = await w.incident(s, grid="D1S1C1G1", status="dispatched", created_at=created)
        await w.order(s, inc, department="=cmd|'/c calc'!A1", status="accepted")
    params = {"from": (created - timedelta(hours=1)).isoformat(), "to": datetime.now(UTC).isoformat()}
    admin = await app.as_("admin")
    r = await c.get("/api/v1/ledger", params=params | {"format": "csv"}, headers=admin)
    assert r.status_code == 200
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    cells = [cell for row in rows[1:] for cell in row]
    assert "'=cmd|'/c calc'!A1(主)" in cells and "'@SUM(1+1)*cmd" in cells
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells)
    r = await c.get("/api/v1/ledger", params=params | {"format": "xlsx"}, headers=admin)
    sheet = load_workbook(io.BytesIO(r.content))["台账 Ledger"]
    values = [cell for row in sheet.iter_rows(min_row=2) for cell in row if cell.value is not None]
    assert all(cell.data_type != "f" for cell in values)
    assert "'@SUM(1+1)*cmd" in {cell.value for cell in values}
