"""GPS apps report worker positions: the OsmAnd query string and Traccar Client's JSON body, as those clients send
them, move a bound worker (the live list the wall reads) and make them the one dispatched; an unknown device is
refused with 400 (Traccar's answer); bad input is a clear 422 that moves nobody. Device binding by admin, by the
worker, and from the CLI."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from command.cli.registry import COMMANDS, build_parser
from command.intake.channels.osmand import parse_timestamp
from dispatch import presence
from tests.dispatch_fixtures import add_user, at, metres
from tests.dispatch_world import alert, dispatch_client

TARGET = at(3.6, 0.4)  # in GB1's street, far from every worker's start


async def _live(client, op, worker_id: int) -> dict:
    r = await client.get("/api/v1/workers", headers=op.headers)
    assert r.status_code == 200, r.text
    (me,) = [w for w in r.json()["items"] if w["id"] == worker_id]
    return me


async def _admin(clean_db, dsettings):
    from command.core.db import make_sessionmaker
    async with make_sessionmaker(clean_db)() as s, s.begin():
        return await add_user(s, dsettings, username="admin", role="admin")


async def test_query_string_report_moves_the_bound_worker_and_makes_them_dispatchable(world, dsettings, clean_db):
    admin = await _admin(clean_db, dsettings)
    async with dispatch_client(dsettings) as client:
        bind = await client.put("/api/v1/admin/devices/860000000000001", headers=admin.headers,
                                json={"worker_id": world.far.worker_id})
        assert bind.status_code == 200, bind.text
        assert bind.json() == {"device_id": "860000000000001", "worker_id": world.far.worker_id, "datum": "wgs84"}
        # OsmAnd's own URL template: id, lat, lon, timestamp (ms here: a report in the same second as the world's
        # placement would be older than it), hdop, altitude, speed (knots); POST as Traccar
        # Client's legacy mode sends it (query string, empty body).
        lon, lat = TARGET
        r = await client.post("/osmand", params={
            "id": "860000000000001", "lat": f"{lat:.6f}", "lon": f"{lon:.6f}",
            "timestamp": str(int(time.time() * 1000)),
            "hdop": "1.2", "altitude": "35.0", "speed": "1.5", "bearing": "90", "batt": "87", "charge": "true"})
        assert r.status_code == 200, r.text
        assert r.json() == {"stored": True}
        me = await _live(client, world.op, world.far.worker_id)
        assert me["present"] and metres((me["lon"], me["lat"]), TARGET) < 1
        created = await client.post("/api/v1/alerts", headers=world.op.headers,
                                    json=alert((3.6, 0.41), category="noise"))
        assert created.status_code == 201, created.text
        assert [o["worker_id"] for o in created.json()["orders"]] == [world.far.worker_id]


async def test_traccar_client_json_moves_the_worker_bound_from_m(world, dsettings, redis):
    async with dispatch_client(dsettings) as client:
        mine = await client.put("/api/v1/workers/me/devices/abc123", headers=world.mid.headers)
        assert mine.status_code == 200, mine.text
        listed = await client.get("/api/v1/workers/me/devices", headers=world.mid.headers)
        assert [d["device_id"] for d in listed.json()] == ["abc123"]
        # Another worker cannot take it over.
        taken = await client.put("/api/v1/workers/me/devices/abc123", headers=world.near.headers)
        assert taken.status_code == 409
        lon, lat = TARGET
        # The body Traccar Client (transistorsoft background geolocation) posts.
        body = {"location": {"timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                             "coords": {"latitude": lat, "longitude": lon, "accuracy": 5.0, "speed": -1,
                                        "heading": -1, "altitude": 40.1},
                             "is_moving": True, "odometer": 0, "event": "motionchange",
                             "battery": {"level": 0.52, "is_charging": False}, "activity": {"type": "walking"},
                             "extras": {}},
                "device_id": "abc123"}
        r = await client.post("/api/v1/positions/osmand", json=body)
        assert r.status_code == 200, r.text
        me = await _live(client, world.op, world.mid.worker_id)
        assert me["present"] and metres((me["lon"], me["lat"]), TARGET) < 1
        created = await client.post("/api/v1/alerts", headers=world.op.headers,
                                    json=alert((3.6, 0.41), category="noise"))
        assert [o["worker_id"] for o in created.json()["orders"]] == [world.mid.worker_id]
        # Unbound from /m: the device is unknown again (this process forgets it at once).
        gone = await client.delete("/api/v1/workers/me/devices/abc123", headers=world.mid.headers)
        assert gone.status_code == 204
        for _ in range(50):
            again = await client.post("/api/v1/positions/osmand", json=body)
            if again.status_code == 400:
                break
        assert again.status_code == 400


async def test_unknown_device_and_bad_input_are_refused_and_move_nobody(world, dsettings, redis):
    async with dispatch_client(dsettings) as client:
        before = await presence.live_state(redis, worker_ids=[world.far.worker_id], presence_ttl_s=120)
        unknown = await client.get("/osmand", params={"id": "nobody", "lat": "30", "lon": "120"})
        assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "unknown_device"
        await client.put("/api/v1/workers/me/devices/dev-far", headers=world.far.headers)
        cases = [
            ({"id": "dev-far", "lat": "91", "lon": "120"}, "lat/lon"),
            ({"id": "dev-far", "lat": "abc", "lon": "120"}, "lat"),
            ({"id": "dev-far", "location": "30"}, "location"),
            ({"id": "dev-far"}, "lat/lon"),
            ({"lat": "30", "lon": "120"}, "id"),
            ({"id": "dev-far", "lat": "30", "lon": "120", "timestamp": "yesterday"}, "timestamp"),
            ({"id": "dev-far", "lat": "30", "lon": "120", "speed": "nan"}, "speed"),
        ]
        for params, field in cases:
            r = await client.get("/osmand", params=params)
            assert r.status_code == 422, (params, r.text)
            assert r.json()["error"]["details"][0]["field"] == field
        bad_json = await client.post("/osmand", content=b"{not json", headers={"content-type": "application/json"})
        assert bad_json.status_code == 422
        no_coords = await client.post("/osmand", json={"device_id": "dev-far", "location": {}})
        assert no_coords.status_code == 422
        # No fix (0,0) or valid=false: answered, nobody moves.
        for params in ({"id": "dev-far", "lat": "0", "lon": "0"}, {"id": "dev-far", "lat": "30", "lon": "120",
                                                                    "valid": "false"}):
            r = await client.get("/osmand", params=params)
            assert r.status_code == 200 and r.json() == {"stored": False}
        after = await presence.live_state(redis, worker_ids=[world.far.worker_id], presence_ttl_s=120)
        assert (after[world.far.worker_id].lon, after[world.far.worker_id].lat) == (
            before[world.far.worker_id].lon, before[world.far.worker_id].lat)


async def test_form_encoded_post_and_location_parameter(world, dsettings):
    async with dispatch_client(dsettings) as client:
        await client.put("/api/v1/workers/me/devices/form-1", headers=world.near.headers)
        lon, lat = TARGET
        r = await client.post("/osmand", content=f"deviceid=form-1&location={lat},{lon}&timestamp="
                              f"{int(time.time() * 1000)}".encode(),
                              headers={"content-type": "application/x-www-form-urlencoded"})
        assert r.status_code == 200 and r.json() == {"stored": True}
        me = await _live(client, world.op, world.near.worker_id)
        assert metres((me["lon"], me["lat"]), TARGET) < 1


def test_timestamps_as_traccar_reads_them() -> None:
    when = datetime(2026, 12, 7, 1, 2, 3, tzinfo=UTC)
    assert parse_timestamp("1796605323") == when
    assert parse_timestamp("1796605323000") == when
    assert parse_timestamp("2026-12-07T01:02:03Z") == when
    assert parse_timestamp("2026-12-07T09:02:03+08:00") == when
    assert parse_timestamp("2026-12-07 01:02:03") == when


@pytest.mark.usefixtures("world")
async def test_cli_binds_lists_and_unbinds(capsys, dsettings, engine) -> None:
    async with engine.connect() as conn:
        wid = (await conn.execute(text("SELECT min(id) FROM workers"))).scalar_one()

    def run(*argv: str) -> int:
        args = build_parser().parse_args(list(argv))
        return COMMANDS[args.command].run(args, dsettings)

    assert await asyncio.to_thread(run, "bind-device", "cli-1", str(wid), "--datum", "gcj02") == 0
    assert await asyncio.to_thread(run, "list-devices") == 0
    assert f"cli-1\t{wid}\tgcj02" in capsys.readouterr().out
    assert await asyncio.to_thread(run, "unbind-device", "cli-1") == 0
    assert await asyncio.to_thread(run, "unbind-device", "cli-1") == 1


def _observed(route: str, status: str) -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value("gridcmd_http_request_duration_seconds_count",
                                     {"method": "GET", "route": route, "status": status}) or 0.0


async def test_the_get_fast_path_answers_as_the_route_would(world, dsettings, redis):
    """GET /osmand?… is answered ahead of the framework (web.osmand_fast): the app's control-character rule and
    error shape, the latency histogram, 503 when Redis is down; a GET without a query goes to the route."""
    async with dispatch_client(dsettings) as client:
        await client.put("/api/v1/workers/me/devices/dev-far", headers=world.far.headers)
        before = _observed("/osmand", "200")
        r = await client.get("/osmand", params={"id": "dev-far", "lat": "30.1", "lon": "120.1"})
        assert r.status_code == 200 and r.json() == {"stored": True}
        assert r.headers["content-type"] == "application/json"
        assert "x-request-id" not in r.headers  # answered ahead of the stack (RequestId sets one on every answer)
        assert _observed("/osmand", "200") == before + 1
        for params in ({"id": "dev\x00far", "lat": "30", "lon": "120"}, {"id": "dev-far", "lat": "30\n", "lon": "1"},
                       {"id": "dev-far", "lat": "30", "lon": "120", "x\x7f": "1"}):
            r = await client.get("/api/v1/positions/osmand", params=params)
            assert r.status_code == 422 and r.json()["error"]["details"][0]["type"] == "control_character", r.text
        r = await client.get("/osmand")  # no query: the route's own answer (no device id)
        assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "id", r.text
        live = client.app.state.redis  # type: ignore[attr-defined]
        from command.core.redis_client import redis_from_url

        client.app.state.redis = redis_from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)  # type: ignore[attr-defined]
        try:
            r = await client.get("/osmand", params={"id": "dev-far", "lat": "30.2", "lon": "120.2"})
            assert r.status_code == 503 and r.headers["retry-after"], r.text
            assert r.json()["error"]["code"] == "unavailable"
        finally:
            await client.app.state.redis.aclose()  # type: ignore[attr-defined]
            client.app.state.redis = live  # type: ignore[attr-defined]
