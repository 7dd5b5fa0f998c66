"""Redis through Sentinel (docs/failover.md): the master SIGKILLed while alerts arrive at a steady rate. Every
acknowledged alert has its incident in PostgreSQL and ends dispatched or needs_attention, no worker holds more than
their max load, requests during the switch answer 201 or 503 with Retry-After (never 500), and dispatch resumes
within the failover time + 2 s (the figures are printed). bench/failover.py runs the same drill at 200 alerts/s.

The Sentinel set (scripts/redis-sentinel.sh, ports 5615-5619) is the module's own: killing its master disturbs
nothing else."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis.asyncio.sentinel import MasterNotFoundError

from command.core.redis_client import parse_sentinel_url, redis_from_url
from dispatch import presence
from tests.environment import make_test_settings
from tests.failover_drill import SentinelSet, check, drill
from tests.procs import free_port

BASE_PORT = 5615


@pytest.fixture(scope="module")
def sentinels() -> Iterator[SentinelSet]:
    if shutil.which("redis-server") is None or shutil.which("redis-sentinel") is None:
        pytest.fail("redis-server and redis-sentinel are needed (scripts/provision.sh --test installs them)")
    workdir = Path(tempfile.mkdtemp(prefix="gridcmd-sentinel-"))
    s = SentinelSet(BASE_PORT, workdir)
    s.stop()  # a set left over by an interrupted run
    s.start()
    yield s
    s.stop()
    shutil.rmtree(workdir, ignore_errors=True)


def test_sentinel_url_form() -> None:
    t = parse_sentinel_url("redis+sentinel://:secret@h1:26379,h2:26380,[::1]:26381/mymaster/3?sentinel_password=s2")
    assert t.sentinels == [("h1", 26379), ("h2", 26380), ("::1", 26381)]
    assert (t.service, t.db, t.password, t.sentinel_password, t.ssl) == ("mymaster", 3, "secret", "s2", False)
    assert parse_sentinel_url("redis+sentinel://h1/gridcmd").sentinels == [("h1", 26379)]
    with pytest.raises(ValueError):
        parse_sentinel_url("redis+sentinel://h1:26379")  # no service


async def test_unknown_service_is_an_outage(sentinels: SentinelSet) -> None:
    """A Sentinel URL whose service nobody monitors: a ConnectionError (503 path), not a hang or a 500."""
    from command.core.outage import unavailable

    client = redis_from_url(sentinels.url.replace("/gridcmd/", "/nosuch/"), socket_timeout=1,
                            socket_connect_timeout=1)
    with pytest.raises(MasterNotFoundError) as caught:
        await client.ping()
    assert unavailable(caught.value) == "redis"
    await client.aclose()


async def test_promoted_replica_is_not_live(sentinels: SentinelSet) -> None:
    """The live marker names the master's run id: the replica has it by replication but is not 'live' itself."""
    from redis.asyncio import Redis

    master = redis_from_url(sentinels.url, decode_responses=True, socket_timeout=1)
    await presence.rebuild(master, workers=[], loads={}, ack_due_ms={})
    assert await presence.is_live(master)
    await master.wait(1, 2000)
    replica = Redis(port=sentinels.base + 1 if sentinels.master_port() == sentinels.base else sentinels.base,
                    db=3, decode_responses=True)
    assert await replica.get("{gc}:live") == await presence.server_id(master)  # replicated...
    assert not await presence.is_live(replica)  # ...but names another server
    await master.aclose()
    await replica.aclose()


async def test_replica_replies_are_outages(sentinels: SentinelSet) -> None:
    """A write that reaches a replica (the old master, demoted, during the switch) is a Redis outage (503, or the alert
    left for the sweeper), not a 500; an ordinary error reply is not."""
    from redis.asyncio import Redis
    from redis.exceptions import ResponseError

    from command.core.outage import unavailable

    master = sentinels.master_port()
    replica = Redis(port=sentinels.base + 1 if master == sentinels.base else sentinels.base, db=3)
    with pytest.raises(ResponseError) as caught:
        await replica.set("{gc}:probe", "1")
    assert unavailable(caught.value) == "redis", repr(caught.value)
    assert unavailable(ResponseError("MASTERDOWN Link with MASTER is down")) == "redis"
    with pytest.raises(ResponseError) as wrong:
        await replica.execute_command("NOSUCHCOMMAND")
    assert unavailable(wrong.value) is None  # a bug stays a 500
    await replica.aclose()


async def test_master_killed_under_load(clean_db, sentinels: SentinelSet) -> None:
    settings = make_test_settings(redis_url=sentinels.url)
    f = await drill(clean_db, settings, sentinels, free_port(), rate=10, seconds=6, kill_at_s=2.0, workers=100)
    check(f, "Sentinel")
