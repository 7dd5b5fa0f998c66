"""Redis Cluster (docs/cluster.md, docs/failover.md): the master serving the dispatch state SIGKILLed while alerts
arrive at a steady rate; the cluster promotes its replica by itself. Every acknowledged alert has its incident in
PostgreSQL and ends dispatched or needs_attention, no worker holds more than their max load, requests during the
switch answer 201 or 503 with Retry-After (never 500), and dispatch resumes within the failover time + 2 s (the
figures are printed). `python -m bench.failover --cluster` runs the same drill at 200 alerts/s.

The cluster is the module's own (tests/redis_cluster.ClusterSet, six free ports of 7110-7189), never the one
GRIDCMD_TEST_REDIS_CLUSTER names: killing its master disturbs nothing else."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from command.core.redis_client import ready, redis_from_url
from dispatch import keys, presence
from tests.environment import make_test_settings
from tests.failover_drill import check, drill
from tests.procs import free_port
from tests.redis_cluster import ClusterSet, free_base


@pytest.fixture(scope="module")
def nodes() -> Iterator[ClusterSet]:
    workdir = Path(tempfile.mkdtemp(prefix="gridcmd-cluster-fault-"))
    cluster = ClusterSet(free_base(), workdir)
    cluster.start()
    yield cluster
    cluster.stop()
    shutil.rmtree(workdir, ignore_errors=True)


async def test_a_promoted_replica_is_not_live_until_rebuilt(nodes: ClusterSet) -> None:
    """The live marker names the run id of the master that owned `{gc}`: its replica holds it by replication but is
    not 'live' itself, so claims wait for a rebuild from PostgreSQL after a failover (assign.lua, claim.lua)."""
    client = redis_from_url(nodes.url, decode_responses=True, socket_timeout=1)
    try:
        assert await ready(client)
        await presence.rebuild(client, workers=[], loads={}, ack_due_ms={})
        assert await presence.is_live(client)
        master = nodes.master_port()
        await client.wait(1, 2000)  # the marker reached the replica (sent to the master owning the key)
        replicas = [p for p in nodes.ports if p != master]
        held = []
        for port in replicas:
            node = Redis(port=port, decode_responses=True)
            try:
                if (await node.execute_command("ROLE"))[0] == "slave":
                    await node.execute_command("READONLY")
                    role = await node.execute_command("ROLE")
                    if int(role[2]) == master:
                        held.append((await node.get(keys.DEFAULT.live_marker), await presence.is_live(node)))
            finally:
                await node.aclose()
        assert held == [(await presence.server_id(client), False)]  # replicated, but names another server
    finally:
        await client.aclose()


async def test_master_killed_under_load(clean_db, nodes: ClusterSet) -> None:
    settings = make_test_settings(redis_url=nodes.url)
    f = await drill(clean_db, settings, nodes, free_port(), rate=10, seconds=8, kill_at_s=2.0, workers=100)
    check(f, "Cluster")
