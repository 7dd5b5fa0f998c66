"""`REDIS_URL=redis+cluster://…` builds redis-py's cluster client (docs/cluster.md); a bad cluster URL is refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from redis.asyncio.cluster import RedisCluster

from command.core.redis_client import as_cluster, cluster_nodes, is_cluster_url, make_redis, ready
from dispatch import keys, presence
from dispatch.presence import WorkerSeed
from tests.environment import BASE_REDIS, TEST_REDIS_DB, make_test_settings
from tests.redis_cluster import cluster_url


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with cluster_url(Path(tmp_path_factory.mktemp("redis-cluster"))) as url:
        yield url


def test_cluster_urls_are_parsed_and_bad_ones_refused() -> None:
    nodes = cluster_nodes("redis+cluster://127.0.0.1:7100, 10.0.0.2:7101/")
    assert [(n.host, n.port) for n in nodes] == [("127.0.0.1", 7100), ("10.0.0.2", 7101)]
    assert is_cluster_url("redis+cluster://h:1/") and not is_cluster_url("redis://127.0.0.1:6379/5")
    for bad in ("redis://127.0.0.1:6379/0", "redis+cluster://127.0.0.1:7100/3", "redis+cluster://127.0.0.1/",
                "redis+cluster://127.0.0.1:x/"):
        with pytest.raises(ValueError):
            cluster_nodes(bad)


def test_a_plain_url_still_builds_the_single_instance_client() -> None:
    client = make_redis(make_test_settings(redis_url=f"{BASE_REDIS}/{TEST_REDIS_DB}"))
    assert not isinstance(client, RedisCluster)


async def test_a_cluster_url_builds_the_cluster_client_and_dispatch_runs_on_it(cluster: str) -> None:
    client = make_redis(make_test_settings(redis_url=cluster))
    try:
        assert isinstance(client, RedisCluster)
        await client.initialize()
        space = keys.district_space("320102")
        # A MULTI over several keys of one tag, report.lua and claim.lua: all on the shard owning the tag.
        await presence.rebuild(client, workers=[WorkerSeed(1, 1, True)], loads={}, ack_due_ms={}, space=space)
        await presence.report_positions(client, worker_id=1, positions=[(118.78, 32.05, None)])  # {gc}: unknown
        [res] = await presence.report_many(client, [(1, 118.78, 32.05, 1e9 + 1)], space=space)
        assert res.registered
        live = await presence.live_state(client, worker_ids=[1], presence_ttl_s=1e12, space=space)
        assert live[1].availability.value == "available"
        await client.delete(*space.all, *keys.ALL)
    finally:
        await client.aclose()


async def test_a_space_on_another_master_is_marked_with_that_masters_run_id(cluster: str) -> None:
    client = make_redis(make_test_settings(redis_url=cluster))
    try:
        assert await ready(client)
        cluster_client = as_cluster(client)
        assert cluster_client is not None
        default = cluster_client.get_default_node()  # where the client sends INFO
        space = next(s for s in map(keys.district_space, (f"32{n:04d}" for n in range(100)))
                     if cluster_client.get_node_from_key(s.live_marker) != default)
        owner = cluster_client.get_node_from_key(space.live_marker)
        owner_run_id = (await cluster_client.info("server", target_nodes=owner))["run_id"]
        await presence.rebuild(client, workers=[WorkerSeed(1, 1, True)], loads={}, ack_due_ms={}, space=space)
        assert await client.get(space.live_marker) == owner_run_id  # not the default node's
        assert await presence.is_live(client, space=space)
        await client.delete(*space.all)
    finally:
        await client.aclose()


def test_a_cluster_that_is_down_or_switching_is_an_outage_and_a_cross_slot_command_is_not() -> None:
    from redis.exceptions import (
        ClusterDownError,
        ConnectionError,
        CrossSlotTransactionError,
        MasterDownError,
        RedisClusterException,
        SlotNotCoveredError,
        TryAgainError,
    )

    from command.core.outage import unavailable

    for down in (ClusterDownError("CLUSTERDOWN The cluster is down"), MasterDownError("MASTERDOWN"),
                 TryAgainError("TRYAGAIN"), SlotNotCoveredError("slot 3704 is not covered")):
        assert unavailable(down) == "redis", repr(down)
    try:  # as redis-py raises it when no startup node answers: the connection error is the cause
        try:
            raise ConnectionError("Error 111 connecting to 127.0.0.1:7100")
        except ConnectionError as exc:
            raise RedisClusterException("Redis Cluster cannot be connected") from exc
    except RedisClusterException as unreachable:
        assert unavailable(unreachable) == "redis"
    assert unavailable(CrossSlotTransactionError("keys in different slots")) is None  # a bug stays a 500
    assert unavailable(RedisClusterException("all keys must map to the same key slot")) is None
