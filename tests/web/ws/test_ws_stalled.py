"""A client that never reads is really disconnected (RST or FIN observed on its own socket) within the documented
time: ws_close_timeout_s after the server decides to close it, whether its queue filled (4000) or it went silent
(4408), even though the close frame itself can never reach it (docs/realtime.md)."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import struct
import time
from collections.abc import Iterator

import pytest
from redis.asyncio import Redis

from tests.procs import free_port, log_tail, server_env, start_server, stop, wait_ready
from tests.ws_fixtures import City, emit_many, new_incident

CLOSE_TIMEOUT_S = 1.0
PING_S = 1.0
QUEUE = 16
TCP_ESTABLISHED = 1
SLACK_S = 1.5  # scheduling on a loaded 2-core machine


@pytest.fixture(scope="module")
def stall_server(city: City) -> Iterator[tuple[int, object]]:
    port = free_port()
    env = server_env(city.settings, GRIDCMD_WS_QUEUE_SIZE=str(QUEUE), GRIDCMD_WS_PING_INTERVAL_S=str(PING_S),
                     GRIDCMD_WS_CLOSE_TIMEOUT_S=str(CLOSE_TIMEOUT_S), GRIDCMD_WS_SEND_BUFFER_BYTES="16384",
                     GRIDCMD_DISPATCH_BACKGROUND="false")
    proc = start_server(port, env)
    try:
        wait_ready(port, proc=proc)
        yield port, proc
    finally:
        stop(proc)


def _frame(text: str) -> bytes:
    """A masked client text frame (RFC 6455 5.2), written by hand: this client has no WebSocket library that
    could read on its behalf."""
    payload, mask = text.encode(), os.urandom(4)
    n = len(payload)
    header = bytes([0x81]) + (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + n.to_bytes(2, "big"))
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def never_reading_client(port: int, token: str, region: str) -> socket.socket:
    """Connect, upgrade, authenticate and subscribe, all written blindly (frames only once the server has had time
    to accept the upgrade: it does not parse frames that arrive with the request); then never read a byte."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    time.sleep(0.3)
    sock.sendall(_frame(json.dumps({"type": "auth", "token": token})))
    sock.sendall(_frame(json.dumps({"type": "subscribe", "region": region})))
    return sock


def tcp_state(sock: socket.socket) -> int:
    """The kernel's state of our end (struct tcp_info's first byte): ESTABLISHED until a FIN (CLOSE_WAIT) or an
    RST (CLOSE) arrives."""
    return struct.unpack("B", sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1))[0]


async def dropped_within(sock: socket.socket, seconds: float) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if tcp_state(sock) != TCP_ESTABLISHED:
            return time.monotonic() - started
        await asyncio.sleep(0.05)
    return None


async def test_a_flooded_client_that_never_reads_is_dropped(stall_server, city: City, rds: Redis) -> None:
    port, proc = stall_server
    incident = await new_incident(city, rds, "SY")
    sock = never_reading_client(port, city.tokens["op_y"], "SY")
    try:
        await asyncio.sleep(0.5)  # subscribed
        # Incompressible 24 KB events, far more than the queue, the send buffers and the client's buffer hold.
        pads = [base64.b64encode(os.urandom(18_000)).decode() for _ in range(QUEUE * 4)]
        await emit_many(city, rds, incident, [{"pad": p} for p in pads])
        elapsed = await dropped_within(sock, CLOSE_TIMEOUT_S + SLACK_S + 1.0)
        print(f"\nflooded, never reading: connection dropped {elapsed} s after the burst (close timeout "
              f"{CLOSE_TIMEOUT_S} s); state {tcp_state(sock)}")
        assert elapsed is not None, log_tail(proc)  # still ESTABLISHED: the close never got out and nothing aborted
        assert elapsed <= CLOSE_TIMEOUT_S + SLACK_S
    finally:
        sock.close()


async def test_a_silent_client_that_never_reads_is_dropped(stall_server, city: City) -> None:
    port, proc = stall_server
    sock = never_reading_client(port, city.tokens["op_x"], "SX")
    try:
        # No events for it: no pong for two ping intervals → 4408 (checked every interval), then the close
        # handshake gets ws_close_timeout_s.
        bound = 3 * PING_S + CLOSE_TIMEOUT_S
        elapsed = await dropped_within(sock, bound + SLACK_S + 2.0)
        print(f"\nsilent, never reading: connection dropped after {elapsed} s (bound {bound} s)")
        assert elapsed is not None, log_tail(proc)
        assert elapsed <= bound + SLACK_S
    finally:
        sock.close()
