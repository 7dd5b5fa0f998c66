"""/ws against a real uvicorn process: authentication, the frame protocol and its close codes, scope, positions,
heartbeats, and GET /api/v1/events. Events are appended and published by the test (command.core.events)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import httpx
import pytest
from redis.asyncio import Redis

from command.core.security import Principal, issue_token
from dispatch import keys
from tests.environment import make_test_settings
from tests.procs import free_port, server_env, start_server, stop, wait_ready
from tests.ws_fixtures import City, emit, emit_many, new_incident
from tests.ws_helpers import closed_with, events, open_ws, recv, silent, subscribe

PORT = free_port()  # chosen by the kernel: two suites can run on one machine
MAX_FRAME = 64 * 1024


@pytest.fixture(scope="module")
def server(city: City) -> Iterator[int]:
    env = server_env(city.settings, GRIDCMD_WS_PING_INTERVAL_S="1", GRIDCMD_WS_AUTH_TIMEOUT_S="1",
                     GRIDCMD_DISPATCH_BACKGROUND="false")
    proc = start_server(PORT, env)
    try:
        wait_ready(PORT, proc=proc)
        yield PORT
    finally:
        stop(proc)


# -- authentication -------------------------------------------------------------------------------------------

async def test_bad_tokens_close_4401_before_any_data(server: int, city: City) -> None:
    forged = issue_token(make_test_settings(secret_key="another-key-another-key-another-key-0123"),
                         Principal(user_id=1, username="admin", role="admin"))
    for first in ([{"type": "auth", "token": "not.a.jwt"}], [{"type": "auth", "token": forged}],
                  [{"type": "subscribe", "region": "SX"}], [{"type": "auth"}]):
        ws = await open_ws(server)
        await ws.send(json.dumps(first[0]))
        code, frames = await closed_with(ws)
        assert (code, frames) == (4401, []), first


async def test_no_auth_frame_in_time_closes_4401(server: int) -> None:
    ws = await open_ws(server)
    code, frames = await closed_with(ws, within=10)
    assert (code, frames) == (4401, [])


async def test_expired_token_closes_4401(server: int) -> None:
    expired = issue_token(make_test_settings(token_ttl_s=-10), Principal(user_id=1, username="admin", role="admin"))
    ws = await open_ws(server)
    await ws.send(json.dumps({"type": "auth", "token": expired}))
    assert await closed_with(ws) == (4401, [])


# -- malformed, oversize, binary, unknown frames ----------------------------------------------------------------

async def test_malformed_json_closes_1007(server: int, city: City) -> None:
    ws = await open_ws(server, city.tokens["op_x"])
    await ws.send("{not json")
    code, _ = await closed_with(ws)
    assert code == 1007


async def test_binary_frame_closes_1003(server: int, city: City) -> None:
    ws = await open_ws(server, city.tokens["op_x"])
    await ws.send(b'{"type":"pong"}')
    code, _ = await closed_with(ws)
    assert code == 1003


async def test_oversize_frame_closes_1009(server: int, city: City) -> None:
    ws = await open_ws(server, city.tokens["op_x"])
    await ws.send(json.dumps({"type": "pong", "pad": "x" * MAX_FRAME}))
    code, _ = await closed_with(ws)
    assert code == 1009


async def test_unknown_and_invalid_frames_get_errors_and_change_nothing(server: int, city: City, rds: Redis) -> None:
    ws = await open_ws(server, city.tokens["op_x"])
    await subscribe(ws, "SX")
    bad = [({"type": "dance"}, "unknown_type"), ([1, 2], "bad_frame"), ({"no": "type"}, "unknown_type"),
           ({"type": "subscribe", "region": "SY"}, "forbidden"),  # another street
           ({"type": "subscribe", "region": "NOPE"}, "invalid_input"),
           ({"type": "subscribe", "region": "SX", "last_event_id": "yesterday"}, "invalid_input"),
           ({"type": "subscribe", "region": 7}, "bad_frame"),
           ({"type": "subscribe", "region": "SX", "batch": "yes"}, "bad_frame"),
           ({"type": "position", "lon": 118.7, "lat": 32.0}, "forbidden"),  # not a worker
           ({"type": "auth", "token": city.tokens["admin"]}, "forbidden")]  # a renewal must be op_x's own
    for frame, code in bad:
        await ws.send(json.dumps(frame))
        reply = await recv(ws)
        assert reply["type"] == "error" and reply["code"] == code, (frame, reply)
        assert reply["message"]
    # Still subscribed to SX, and only SX: the refused frames changed nothing.
    sx, sy = await new_incident(city, rds, "SX"), await new_incident(city, rds, "SY")
    got = await events(ws, 1)
    assert got[0]["type"] == "event" and got[0]["event"]["incident_id"] == sx.id
    assert await silent(ws, 0.5) == []
    assert sy.id != sx.id


async def test_a_batching_subscription_gets_a_transactions_events_in_one_frame(server: int, city: City,
                                                                              rds: Redis) -> None:
    """subscribe with batch: the frames that wait together come as one batch frame, the same events in the
    same order as a socket that takes them one frame each."""
    plain, batched = [await open_ws(server, city.tokens["op_x"]) for _ in range(2)]
    await subscribe(plain, "SX")
    sub, _, _ = await subscribe(batched, "SX", batch=True)
    assert sub["batch"] is True
    incident = await new_incident(city, rds, "SX")
    burst = await emit_many(city, rds, incident, [{"n": n} for n in range(5)])
    one_each = [f["event"]["pg_id"] for f in await events(plain, 6)]
    assert one_each == [one_each[0], *[e.id for e in burst]]
    raw: list[dict] = []
    got: list[int] = []
    while len(got) < 6:
        frame = json.loads(await asyncio.wait_for(batched.recv(), 3))
        raw.append(frame)
        frames = frame["frames"] if frame["type"] == "batch" else [frame]
        got += [f["event"]["pg_id"] for f in frames if f["type"] == "event"]
    assert got == one_each
    batches = [f for f in raw if f["type"] == "batch"]
    assert any({f["event"]["pg_id"] for f in b["frames"]} >= {e.id for e in burst} for b in batches), raw
    assert await silent(batched, 0.3) == []


async def test_a_stream_of_bad_frames_ends_with_1008(server: int, city: City) -> None:
    ws = await open_ws(server, city.tokens["op_x"])
    for _ in range(20):
        await ws.send('{"type":"dance"}')
    code, frames = await closed_with(ws)
    assert code == 1008 and all(f["type"] in ("error", "ping") for f in frames)


# -- scope ----------------------------------------------------------------------------------------------------

async def test_wall_display_of_street_x_gets_nothing_from_street_y(server: int, city: City, rds: Redis) -> None:
    wall_x, wall_y, district = [await open_ws(server, city.tokens[u]) for u in ("op_x", "op_y", "op_d")]
    sub_x, _, _ = await subscribe(wall_x)  # default: the operator's own region
    assert sub_x["scope"]["region"] == "SX"
    await subscribe(wall_y, "SY")
    await subscribe(district, "D1")
    in_x, in_y, in_cx1 = [await new_incident(city, rds, r) for r in ("SX", "SY", "CX1")]
    x_ids = [f["event"]["incident_id"] for f in await events(wall_x, 2)]
    y_ids = [f["event"]["incident_id"] for f in await events(wall_y, 1)]
    d_ids = [f["event"]["incident_id"] for f in await events(district, 3)]
    assert x_ids == [in_x.id, in_cx1.id] and y_ids == [in_y.id] and d_ids == [in_x.id, in_y.id, in_cx1.id]
    assert await silent(wall_x, 0.3) == [] and await silent(wall_y, 0.3) == []


async def test_street_operator_may_watch_inside_but_not_beside_or_above(server: int, city: City) -> None:
    ws = await open_ws(server, city.tokens["op_x"])
    sub, _, _ = await subscribe(ws, "CX1")  # a community of their street
    assert sub["scope"]["region"] == "CX1"
    for region in ("SY", "D1"):
        await ws.send(json.dumps({"type": "subscribe", "region": region}))
        reply = await recv(ws)
        assert reply["type"] == "error" and reply["code"] == "forbidden"
    admin = await open_ws(server, city.tokens["admin"])
    sub, _, _ = await subscribe(admin, "SY")
    assert sub["scope"]["region"] == "SY"


async def test_worker_gets_own_orders_and_their_incidents_only(server: int, city: City, rds: Redis) -> None:
    w1, w2 = await open_ws(server, city.tokens["worker1"]), await open_ws(server, city.tokens["worker2"])
    sub, _, _ = await subscribe(w1)
    assert sub["scope"]["worker_id"] == city.worker_ids["worker1"]
    await subscribe(w2)
    incident = await new_incident(city, rds, "CX1")  # not theirs yet: no one gets incident.created
    mine = await emit(city, rds, incident, kind="order.offered", worker="worker1")
    theirs = await emit(city, rds, incident, kind="order.offered", worker="worker2")
    status = await emit(city, rds, incident, kind="incident.dispatched")  # both hold an order on it now
    dept = await emit(city, rds, incident, kind="order.offered", department="power-sx")
    got1 = [f["event"]["pg_id"] for f in await events(w1, 2)]
    got2 = [f["event"]["pg_id"] for f in await events(w2, 2)]
    assert got1 == [mine.id, status.id] and got2 == [theirs.id, status.id]
    assert await silent(w1, 0.3) == [] and await silent(w2, 0.3) == []
    assert dept.id not in got1 + got2
    await w1.send(json.dumps({"type": "subscribe", "region": "CX1"}))
    reply = await recv(w1)
    assert reply["type"] == "error" and reply["code"] == "forbidden"


async def test_liaison_gets_only_their_departments_orders(server: int, city: City, rds: Redis) -> None:
    power = await open_ws(server, city.tokens["liaison_power"])
    water = await open_ws(server, city.tokens["liaison_water"])
    await subscribe(power)
    await subscribe(water)
    incident = await new_incident(city, rds, "SX")
    worker_order = await emit(city, rds, incident, kind="order.offered", worker="worker1")
    power_order = await emit(city, rds, incident, kind="order.offered", department="power-sx")
    got = await events(power, 1)
    assert [f["event"]["pg_id"] for f in got] == [power_order.id]
    assert got[0]["event"]["department_code"] == "power-sx"
    assert await silent(power, 0.3) == [] and await silent(water, 0.3) == []
    assert worker_order.id != power_order.id


# -- positions ------------------------------------------------------------------------------------------------

async def test_worker_position_frames(server: int, city: City, rds: Redis) -> None:
    wid = str(city.worker_ids["worker1"])
    ws = await open_ws(server, city.tokens["worker1"])
    for frame in ({"type": "position", "lon": 200, "lat": 32}, {"type": "position", "lon": 118.7},
                  {"type": "position", "lon": 118.7, "lat": 32.0, "crs": "mars"},
                  {"type": "position", "lon": "east", "lat": 32.0},
                  {"type": "position", "lon": 118.7, "lat": 32.0, "ts": "2026-01-01T08:00:00"},  # no zone
                  {"type": "position", "lon": 118.7, "lat": 32.0, "ts": 4102444800}):  # 2100: the future
        await ws.send(json.dumps(frame))
        reply = await recv(ws)
        assert reply["type"] == "error" and reply["code"] in ("bad_frame", "invalid_input"), (frame, reply)
    assert await rds.geopos(keys.POSITIONS, wid) == [None]  # refused frames stored nothing
    await ws.send(json.dumps({"type": "position", "lon": 118.7123, "lat": 32.0123, "crs": "wgs84"}))
    for _ in range(50):
        if (pos := (await rds.geopos(keys.POSITIONS, wid))[0]) is not None:
            break
        await asyncio.sleep(0.05)
    assert pos is not None and abs(pos[0] - 118.7123) < 1e-4 and abs(pos[1] - 32.0123) < 1e-4




async def test_position_backlog_is_pipelined_in_order_and_registers_the_worker(server: int, city: City,
                                                                                rds: Redis) -> None:
    """A phone sending its backlog at once (frames read on while Redis works): every good frame is applied in
    order, so the newest stands; a bad frame among them is answered alone; a worker Redis did not know is
    registered from PostgreSQL."""
    wid = str(city.worker_ids["worker1"])
    await rds.hdel(keys.MAX_LOAD, wid)  # as after a rebuild that missed them
    await rds.zrem(keys.SEEN, wid)  # and no earlier report (the frames below carry old times)
    ws = await open_ws(server, city.tokens["worker1"])
    base = 1_700_000_000.0
    frames = [json.dumps({"type": "position", "lon": 118.70 + i * 1e-4, "lat": 32.0, "ts": base + i})
              for i in range(300)]
    frames[150] = json.dumps({"type": "position", "lon": 118.7, "lat": 95.0})
    for frame in frames:
        await ws.send(frame)
    reply = await recv(ws)
    assert reply["type"] == "error" and reply["code"] == "bad_frame", reply
    for _ in range(100):
        if await rds.zscore(keys.SEEN, wid) == base + 299 and await rds.hexists(keys.MAX_LOAD, wid):
            break
        await asyncio.sleep(0.05)
    assert await rds.zscore(keys.SEEN, wid) == base + 299
    pos = (await rds.geopos(keys.POSITIONS, wid))[0]
    assert pos is not None and abs(pos[0] - (118.70 + 299e-4)) < 1e-5
    assert await rds.hexists(keys.MAX_LOAD, wid)  # registered from PostgreSQL
    assert await silent(ws, 0.3) == []  # one error frame, nothing else
# -- heartbeats -----------------------------------------------------------------------------------------------

async def test_client_that_never_answers_pings_is_closed_4408(server: int, city: City) -> None:
    ws = await open_ws(server, city.tokens["op_x"])
    code, frames = await closed_with(ws, within=8)  # reads, but never sends pong
    assert code == 4408 and {"type": "ping"} in frames


async def test_client_that_answers_pings_stays(server: int, city: City) -> None:
    ws = await open_ws(server, city.tokens["op_x"])
    await subscribe(ws)
    assert await silent(ws, 3.5) == []  # recv() answers every ping
    await ws.send('{"type":"pong"}')
    assert ws.close_code is None


# -- polling --------------------------------------------------------------------------------------------------

async def test_poll_events_is_scoped(server: int, city: City, rds: Redis) -> None:
    base = f"http://127.0.0.1:{server}/api/v1/events"
    auth = {u: {"Authorization": f"Bearer {city.tokens[u]}"} for u in ("op_x", "op_y", "worker1")}
    async with httpx.AsyncClient() as http:
        start = (await http.get(base, headers=auth["op_x"])).json()
        assert start["events"] == [] and not start["reset"]
        in_x, in_y = await new_incident(city, rds, "SX"), await new_incident(city, rds, "SY")
        got = (await http.get(base, params={"after": start["next"]}, headers=auth["op_x"])).json()
        assert [e["event"]["incident_id"] for e in got["events"]] == [in_x.id]
        again = (await http.get(base, params={"after": got["next"]}, headers=auth["op_x"])).json()
        assert again["events"] == []
        got_y = (await http.get(base, params={"after": start["next"]}, headers=auth["op_y"])).json()
        assert [e["event"]["incident_id"] for e in got_y["events"]] == [in_y.id]
        refused = await http.get(base, params={"after": start["next"], "region": "SY"}, headers=auth["op_x"])
        assert refused.status_code == 403
        bad = await http.get(base, params={"after": "soon"}, headers=auth["op_x"])
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_input"
        assert (await http.get(base)).status_code == 401
        gone = (await http.get(base, params={"after": "1-0"}, headers=auth["op_x"])).json()
        assert gone["reset"] is True and gone["events"] == []
