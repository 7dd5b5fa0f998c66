"""Open311 reads: services and definitions validate against the published schemas and parse as strict XML; a
Python Open311 client from PyPI (georeport) lists services and reads requests from a real server; GET requests
follows the spec's filters; tokens; discovery; the api_key is issued by an admin (API and CLI)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import pytest
import uvicorn
from georeport import GeoReport
from sqlalchemy import update

from command.cli.registry import main as gridcmd
from command.core.db import make_sessionmaker
from command.core.models import Incident
from command.core.settings import Settings
from tests.dispatch_fixtures import add_user, at
from tests.dispatch_world import dispatch_client
from tests.intake.open311_kit import add_client, fixmystreet_form, parse_xml, validate, xml_records
from tests.procs import free_port
from web.app import create_app

V2 = "/open311/v2"


async def test_services_and_definitions(world, dsettings, clean_db) -> None:
    async with dispatch_client(dsettings) as client:
        services = await client.get(f"{V2}/services.json")
        english = await client.get(f"{V2}/services.json", params={"locale": "en"})
        as_xml = await client.get(f"{V2}/services.xml")
        definition = await client.get(f"{V2}/services/dispute.json")
        definition_xml = await client.get(f"{V2}/services/dispute.xml")
        unknown = await client.get(f"{V2}/services/retired.xml")
        bad_format = await client.get(f"{V2}/services.html")
    assert services.status_code == 200 and services.headers["content-type"].startswith("application/json")
    validate("services.json", services.json())
    codes = [s["service_code"] for s in services.json()]
    assert codes == ["dispute", "fire", "lost", "noise"]  # the active categories; "retired" is not offered
    fire = next(s for s in services.json() if s["service_code"] == "fire")
    assert fire["service_name"] == "火情" and fire["group"] == "紧急警情" and fire["metadata"] is True
    assert next(s for s in english.json() if s["service_code"] == "fire")["service_name"] == "Fire"
    root = parse_xml(as_xml.content)
    assert root.tag == "services" and [r["service_code"] for r in xml_records(root, "service")] == codes
    assert xml_records(root, "service")[1]["metadata"] == "true"
    validate("service-definition.json", definition.json())
    attribute = definition.json()["attributes"][0]
    assert attribute["code"] == "priority" and [v["key"] for v in attribute["values"]] == ["1", "2", "3", "4"]
    droot = parse_xml(definition_xml.content)
    assert droot.tag == "service_definition" and droot.find("service_code").text == "dispute"
    assert [v.text for v in droot.findall("attributes/attribute/values/value/key")] == ["1", "2", "3", "4"]
    assert unknown.status_code == 404 and parse_xml(unknown.content).find("error/code").text == "404"
    assert bad_format.status_code == 400 and bad_format.json()[0]["code"] == 400


async def _file(client, key: str, where: tuple[float, float], service_code: str = "dispute") -> str:
    lon, lat = at(*where)
    r = await client.post(f"{V2}/requests.json", data=fixmystreet_form(key, lat=lat, lon=lon,
                                                                        service_code=service_code))
    assert r.status_code == 200, r.text
    return r.json()[0]["service_request_id"]


async def test_request_filters(world, dsettings, clean_db) -> None:
    key = await add_client(clean_db)
    async with dispatch_client(dsettings) as client:
        a = await _file(client, key, (0.5, 1.5))
        b = await _file(client, key, (2.5, 0.5), "noise")
        c = await _file(client, key, (1.0, 2.5), "noise")
        async with make_sessionmaker(clean_db)() as s, s.begin():  # one closed, one filed 10 days ago
            await s.execute(update(Incident).where(Incident.id == int(c)).values(status="closed"))
            await s.execute(update(Incident).where(Incident.id == int(b)).values(
                created_at=datetime.now(UTC) - timedelta(days=10)))

        async def ids(**params: str) -> list[str]:
            r = await client.get(f"{V2}/requests.json", params=params)
            assert r.status_code == 200, r.text
            validate("requests.json", r.json())
            return sorted(x["service_request_id"] for x in r.json())

        assert await ids() == sorted([a, b, c])
        assert await ids(service_code="noise") == sorted([b, c])
        assert await ids(service_code="noise,dispute") == sorted([a, b, c])
        assert await ids(status="closed") == [c]
        assert await ids(status="open") == sorted([a, b])
        assert await ids(status="open,closed") == sorted([a, b, c])
        week_ago = (datetime.now(UTC) - timedelta(days=7)).isoformat()
        assert await ids(start_date=week_ago) == sorted([a, c])
        assert await ids(end_date=week_ago.replace("+00:00", "Z")) == [b]
        assert await ids(service_request_id=f"{a},{c}", status="open") == sorted([a, c])  # ids override
        xml = await client.get(f"{V2}/requests.xml", params={"status": "closed"})
        records = xml_records(parse_xml(xml.content), "request")
        assert [r["service_request_id"] for r in records] == [c] and records[0]["status"] == "closed"
        refusals = [await client.get(f"{V2}/requests.json", params=p) for p in (
            {"start_date": "yesterday"}, {"start_date": "2026-01-01T00:00:00"}, {"status": "pending"},
            {"service_request_id": "1,x"},
            {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"},
            {"start_date": "2026-06-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"},
            {"jurisdiction_id": "x" * 65}, {"service_code": "noise\x01"})]
        assert [r.status_code for r in refusals] == [400] * 8
        assert all(r.json()[0]["code"] == 400 for r in refusals)
        missing = await client.get(f"{V2}/requests/999999.xml")
        assert missing.status_code == 404 and parse_xml(missing.content).find("error/code").text == "404"
        no_token = await client.get(f"{V2}/tokens/nope.json")
        assert no_token.status_code == 404 and no_token.json() == [{"code": 404, "description": "token not found"}]


async def test_only_open311_requests_are_visible(world, dsettings, clean_db) -> None:
    """An incident from another channel (here the operator's hotline alert) is not an Open311 request."""
    async with dispatch_client(dsettings) as client:
        lon, lat = at(0.5, 1.5)
        r = await client.post("/api/v1/alerts", headers=world.op.headers, json={
            "category": "dispute", "description": "电话报告", "lon": lon, "lat": lat, "channel": "hotline",
            "reporter": {"name": "王五", "phone": "13800000000"}})
        assert r.status_code == 201
        listed = await client.get(f"{V2}/requests.json")
        one = await client.get(f"{V2}/requests/{r.json()['id']}.json")
    assert listed.json() == [] and one.status_code == 404


async def test_discovery(world, dsettings) -> None:
    async with dispatch_client(dsettings) as client:
        as_json = await client.get("/open311/discovery.json")
        as_xml = await client.get("/open311/discovery.xml")
    endpoint = as_json.json()["endpoints"][0]
    assert endpoint["url"] == "http://test/open311/v2" and endpoint["specification"].endswith("GeoReport_v2")
    assert set(endpoint["formats"]) == {"application/json", "text/xml"}
    assert [f.text for f in parse_xml(as_xml.content).findall("endpoints/endpoint/formats/format")] == [
        "application/json", "text/xml"]


@asynccontextmanager
async def served(settings: Settings) -> AsyncIterator[str]:
    """The app on a real port (uvicorn in this event loop), for clients that speak plain blocking HTTP."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on"))
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(200):
            if server.started:
                break
            await asyncio.sleep(0.02)
        assert server.started, "server did not start"
        yield f"http://127.0.0.1:{port}/open311/v2"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


@pytest.mark.parametrize("output_format", ["json", "xml"])
async def test_georeport_client_lists_services_and_reads_requests(world, dsettings, clean_db,
                                                                  output_format) -> None:
    key = await add_client(clean_db)
    async with dispatch_client(dsettings) as client:
        filed = await _file(client, key, (0.5, 1.5))
    async with served(dsettings) as root:
        geo = GeoReport(root, output_format=output_format)
        services = await asyncio.to_thread(geo.get_service_list)
        definition = await asyncio.to_thread(geo.get_service_definition, "dispute")
        requests = await asyncio.to_thread(geo.get_service_requests, service_code="dispute", status="open")
        one = await asyncio.to_thread(geo.get_service_request, filed)
    assert [s["service_code"] for s in services] == ["dispute", "fire", "lost", "noise"]
    assert definition["service_code"] == "dispute"
    # xmltodict gives one record as a dict, several as a list: the client's own shapes.
    record = requests[0] if isinstance(requests, list) else requests
    assert record["service_request_id"] == filed and record["status"] == "open"
    single = one[0] if isinstance(one, list) else one
    assert single["service_request_id"] == filed and single["agency_responsible"] == "SA派出所"


async def test_admin_issues_keys(world, dsettings, clean_db) -> None:
    async with make_sessionmaker(clean_db)() as s, s.begin():
        admin = await add_user(s, dsettings, username="root", role="admin")
    async with dispatch_client(dsettings) as client:
        url = "/api/v1/admin/open311/clients"
        issued = await client.post(url, json={"name": "市民通", "rate_per_min": 5}, headers=admin.headers)
        again = await client.post(url, json={"name": "市民通"}, headers=admin.headers)
        by_operator = await client.post(url, json={"name": "x"}, headers=world.op.headers)
        bad = await client.post(url, json={"name": "", "rate_per_min": 0}, headers=admin.headers)
        listed = await client.get(url, headers=admin.headers)
        key = issued.json()["api_key"]
        lon, lat = at(0.5, 1.5)
        accepted = await client.post(f"{V2}/requests.json", data=fixmystreet_form(key, lat=lat, lon=lon))
        off = await client.patch(f"{url}/市民通", json={"active": False}, headers=admin.headers)
        refused = await client.post(f"{V2}/requests.json", data=fixmystreet_form(key, lat=lat, lon=lon))
        no_such = await client.patch(f"{url}/nobody", json={"active": False}, headers=admin.headers)
    assert issued.status_code == 201 and len(key) >= 32 and issued.json()["rate_per_min"] == 5
    assert again.status_code == 409 and by_operator.status_code == 403 and bad.status_code == 422
    assert [c["name"] for c in listed.json()["clients"]] == ["市民通"] and "api_key" not in listed.json()["clients"][0]
    assert accepted.status_code == 200
    assert off.status_code == 200 and off.json()["active"] is False
    assert refused.status_code == 403 and no_such.status_code == 404


def test_cli_issues_keys(migrated: Settings, monkeypatch, capsys) -> None:
    monkeypatch.setenv("DATABASE_URL", migrated.database_url)
    monkeypatch.setenv("REDIS_URL", migrated.redis_url)
    monkeypatch.setenv("GRIDCMD_SECRET_KEY", migrated.secret_key)
    name = f"cli-{datetime.now(UTC).timestamp()}"
    assert gridcmd(["open311-client-add", name, "--rate", "7"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{name}: api_key ") and "7/min" in out
    assert gridcmd(["open311-client-disable", name]) == 0
    capsys.readouterr()
    assert gridcmd(["open311-clients"]) == 0
    listing = capsys.readouterr().out
    assert any(line.startswith(f"{name}\t") and line.endswith("disabled") for line in listing.splitlines())
    assert gridcmd(["open311-client-disable", "no-such-client"]) == 2
