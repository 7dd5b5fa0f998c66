"""Open311 POST requests: a form-encoded request as FixMyStreet sends it becomes an incident through the one intake
(located and dispatched); every refusal is the spec's error list (JSON and XML) and stores nothing."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from command.core.db import make_sessionmaker
from command.core.models import Incident, Open311Request, Order
from tests.dispatch_fixtures import at
from tests.dispatch_world import dispatch_client
from tests.environment import make_test_settings
from tests.intake.open311_kit import add_client, fixmystreet_form, parse_xml, validate, validate_swagger

POST = "/open311/v2/requests"


async def _stored(engine) -> tuple[int, int]:
    async with make_sessionmaker(engine)() as s:
        return (await s.scalar(select(func.count()).select_from(Incident)),
                await s.scalar(select(func.count()).select_from(Open311Request)))


async def test_fixmystreet_request_is_located_and_dispatched(world, dsettings, clean_db) -> None:
    key = await add_client(clean_db)
    lon, lat = at(0.5, 1.5)
    async with dispatch_client(dsettings) as client:
        r = await client.post(f"{POST}.xml", data=fixmystreet_form(key, lat=lat, lon=lon))
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("text/xml")
        root = parse_xml(r.content)
        assert root.tag == "service_requests"
        request_id = root.find("request/service_request_id").text
        token = root.find("request/token").text
        assert request_id.isdigit() and token
        got = await client.get(f"/open311/v2/requests/{request_id}.json")
        assert got.status_code == 200, got.text
        validate("requests.json", got.json())
        tok = await client.get(f"/open311/v2/tokens/{token}.json")
        validate_swagger("TokenResponse", tok.json()[0])
        assert tok.json() == [{"service_request_id": request_id, "token": token}]
    async with make_sessionmaker(clean_db)() as s:
        incident = await s.get(Incident, int(request_id))
        extra = await s.get(Open311Request, int(request_id))
        orders = list(await s.scalars(select(Order).where(Order.incident_id == incident.id)))
    assert incident.status == "dispatched" and incident.region_path == ["D", "SA", "CA1"]
    assert incident.category_code == "dispute" and incident.priority == 2 and incident.channel == "app"
    assert incident.reporter_name == "Jane Doe" and incident.reporter_phone == "07700 900123"
    assert "楼道里堆放杂物" in incident.description
    assert {o.assignee_kind for o in orders} == {"worker", "department"}
    assert [o.worker_id for o in orders if o.worker_id] == [world.near.worker_id]
    assert extra.email == "jane@example.org" and extra.attributes == {"priority": "2"}
    record = got.json()[0]
    assert record["service_request_id"] == request_id and record["status"] == "open"
    assert record["agency_responsible"] == "SA派出所" and record["status_notes"].startswith("已派单")
    assert record["lat"] == pytest.approx(lat) and record["long"] == pytest.approx(lon)
    assert record["address"] == "区域D区域SA区域CA1"  # the region chain when no address_string was sent
    assert "email" not in record and "Jane" not in str(record) and "07700" not in str(record)
    # The request's times follow the incident's, in the installation's zone (+08:00).
    assert record["expected_datetime"] is not None
    assert datetime.fromisoformat(record["expected_datetime"]) == incident.resolve_due_at.replace(microsecond=0)
    assert datetime.fromisoformat(record["requested_datetime"]) == incident.created_at.replace(microsecond=0)
    assert record["requested_datetime"].endswith("+08:00")


async def test_json_answer_and_address_string(world, dsettings, clean_db) -> None:
    """address_string naming a region (no lat/long) places the request inside the deepest region named."""
    key = await add_client(clean_db)
    form = {"api_key": key, "service_code": "noise", "address_string": "南京市 区域CA1 区域GA1 3号楼",
            "description": "夜间施工噪声"}
    async with dispatch_client(dsettings) as client:
        r = await client.post(f"{POST}.json", data=form)
    assert r.status_code == 200, r.text
    body = r.json()
    validate_swagger("RequestResponse", body[0])
    async with make_sessionmaker(clean_db)() as s:
        incident = await s.get(Incident, int(body[0]["service_request_id"]))
    assert incident.region_code == "GA1" and incident.status == "dispatched"


def _without(form: dict[str, str], *names: str) -> dict[str, str]:
    return {k: v for k, v in form.items() if k not in names}


REFUSALS = [
    ("unknown service", lambda f: {**f, "service_code": "no-such-service"}, 400, "service_code"),
    ("inactive service", lambda f: {**f, "service_code": "retired"}, 400, "service_code"),
    ("no service_code", lambda f: _without(f, "service_code"), 400, "service_code is required"),
    ("no location", lambda f: _without(f, "lat", "long"), 400, "location is required"),
    ("lat without long", lambda f: _without(f, "long"), 400, "lat and long"),
    ("unknown address", lambda f: {**_without(f, "lat", "long"), "address_string": "火星基地"}, 400, "no known"),
    ("not a number", lambda f: {**f, "lat": "north"}, 400, "lat must be a number"),
    ("out of range", lambda f: {**f, "lat": "95"}, 400, "out of range"),
    ("bad attribute", lambda f: {**f, "attribute[priority]": "9"}, 400, "attribute[priority]"),
    ("unknown attribute", lambda f: {**f, "attribute[colour]": "red"}, 400, "attribute[colour]"),
    ("bad email", lambda f: {**f, "email": "not-an-address"}, 400, "email"),
    ("bad media_url", lambda f: {**f, "media_url": "javascript:alert(1)"}, 400, "media_url"),
    ("no api_key", lambda f: _without(f, "api_key"), 403, "api_key is required"),
    ("bad api_key", lambda f: {**f, "api_key": "guessed-key"}, 403, "invalid api_key"),
]


@pytest.mark.parametrize(("case", "change", "status", "says"), REFUSALS, ids=[r[0] for r in REFUSALS])
async def test_refusals_are_spec_errors_and_store_nothing(world, dsettings, clean_db, case, change, status,
                                                          says) -> None:
    key = await add_client(clean_db)
    lon, lat = at(0.5, 1.5)
    form = change(fixmystreet_form(key, lat=lat, lon=lon))
    async with dispatch_client(dsettings) as client:
        as_json = await client.post(f"{POST}.json", data=form)
        as_xml = await client.post(f"{POST}.xml", data=form)
    assert as_json.status_code == status, as_json.text
    errors = as_json.json()
    assert isinstance(errors, list) and errors[0]["code"] == status and says in errors[0]["description"]
    assert set(errors[0]) == {"code", "description"}
    assert as_xml.status_code == status
    root = parse_xml(as_xml.content)
    assert root.tag == "errors" and root.find("error/code").text == str(status)
    assert says in root.find("error/description").text
    assert await _stored(clean_db) == (0, 0)


async def test_disabled_client_is_refused(world, dsettings, clean_db) -> None:
    key = await add_client(clean_db, name="city-app")
    async with make_sessionmaker(clean_db)() as s, s.begin():
        from command.intake.channels.open311_clients import set_active
        await set_active(s, name="city-app", active=False)
    lon, lat = at(0.5, 1.5)
    async with dispatch_client(dsettings) as client:
        r = await client.post(f"{POST}.json", data=fixmystreet_form(key, lat=lat, lon=lon))
    assert r.status_code == 403 and r.json()[0]["description"] == "invalid api_key"
    assert await _stored(clean_db) == (0, 0)


async def test_each_client_has_its_own_rate_limit(world, dsettings, clean_db) -> None:
    slow = await add_client(clean_db, name="slow", rate_per_min=2)
    other = await add_client(clean_db, name="other", rate_per_min=60)
    lon, lat = at(0.5, 1.5)
    async with dispatch_client(dsettings) as client:
        codes = [(await client.post(f"{POST}.json", data=fixmystreet_form(slow, lat=lat, lon=lon))).status_code
                 for _ in range(2)]
        over = await client.post(f"{POST}.xml", data=fixmystreet_form(slow, lat=lat, lon=lon))
        still = await client.post(f"{POST}.json", data=fixmystreet_form(other, lat=lat, lon=lon))
    assert codes == [200, 200]
    assert over.status_code == 429 and int(over.headers["Retry-After"]) >= 1
    assert parse_xml(over.content).find("error/code").text == "429"
    assert still.status_code == 200
    assert await _stored(clean_db) == (3, 3)


async def test_jurisdictions(world, clean_db) -> None:
    """Serving streets SA and SB as jurisdictions: jurisdiction_id is required, must be served, and the location
    must lie in it; reads are filtered by it."""
    settings = make_test_settings(dispatch_background=False, open311_jurisdictions="SA,SB")
    key = await add_client(clean_db)
    lon, lat = at(0.5, 1.5)  # in SA
    async with dispatch_client(settings) as client:
        missing = await client.post(f"{POST}.json", data=fixmystreet_form(key, lat=lat, lon=lon))
        unknown = await client.post(f"{POST}.json", data=fixmystreet_form(key, lat=lat, lon=lon, jurisdiction="X"))
        outside = await client.post(f"{POST}.json", data=fixmystreet_form(key, lat=lat, lon=lon, jurisdiction="SB"))
        assert await _stored(clean_db) == (0, 0)
        inside = await client.post(f"{POST}.json", data=fixmystreet_form(key, lat=lat, lon=lon, jurisdiction="SA"))
        in_sa = await client.get("/open311/v2/requests.json", params={"jurisdiction_id": "SA"})
        in_sb = await client.get("/open311/v2/requests.json", params={"jurisdiction_id": "SB"})
    assert missing.status_code == 400 and "jurisdiction_id is required" in missing.json()[0]["description"]
    assert unknown.status_code == 400 and outside.status_code == 400
    assert "outside jurisdiction SB" in outside.json()[0]["description"]
    assert inside.status_code == 200
    assert [r["service_request_id"] for r in in_sa.json()] == [inside.json()[0]["service_request_id"]]
    assert in_sb.json() == []
    assert await _stored(clean_db) == (1, 1)


async def test_idempotency_key_makes_a_retry_safe(world, dsettings, clean_db) -> None:
    """Not in the spec, optional: a client that retries with the same Idempotency-Key gets the first request."""
    key = await add_client(clean_db)
    lon, lat = at(0.5, 1.5)
    form = fixmystreet_form(key, lat=lat, lon=lon)
    async with dispatch_client(dsettings) as client:
        first = await client.post(f"{POST}.json", data=form, headers={"Idempotency-Key": "fms-1234"})
        again = await client.post(f"{POST}.json", data=form, headers={"Idempotency-Key": "fms-1234"})
        other = await client.post(f"{POST}.json", data={**form, "description": "另一件事"},
                                  headers={"Idempotency-Key": "fms-1234"})
        bad = await client.post(f"{POST}.xml", data=form, headers={"Idempotency-Key": "has spaces"})
    assert first.status_code == 200 and again.status_code == 200
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert other.status_code == 409 and other.json()[0]["code"] == 409
    assert bad.status_code == 400 and parse_xml(bad.content).find("error/code").text == "400"
    assert await _stored(clean_db) == (1, 1)
