"""The web app on a Redis Cluster (`REDIS_URL=redis+cluster://…`, docs/cluster.md): two groups of web processes
(bench/node_groups.py, as two machines) on a local cluster of 3 masters and 3 replicas (scripts/redis-cluster.sh),
sharing nothing but PostgreSQL and the cluster. An alert posted to either group is dispatched to a worker and heard
once on both groups' walls; an account disabled through one group closes its socket on the other (the account
channel's pub/sub on the cluster). The whole WebSocket, realtime and dispatch suites pass on a cluster too when it is
named (GRIDCMD_TEST_REDIS_CLUSTER, docs/cluster.md); this module runs in every `make test`."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from command.core.db import make_sessionmaker
from command.core.redis_client import ready
from command.core.settings import Settings
from dispatch import keys, presence
from tests import node_alerts
from tests.dispatch_fixtures import Who, add_user, add_workers, at, seed_world
from tests.environment import make_test_settings, redis_client
from tests.redis_cluster import cluster_url
from tests.ws_helpers import closed_with, open_ws, subscribe

RATE, SECONDS = 4.0, 2.0  # per group: 8 alerts posted to each


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with cluster_url(Path(tmp_path_factory.mktemp("redis-cluster"))) as url:
        yield url


@pytest.fixture(name="csettings")
def cluster_settings(cluster: str) -> Settings:
    return make_test_settings(redis_url=cluster, dispatch_background=False)  # the groups drive; this process reads


@pytest.fixture(name="town")
async def town_fixture(clean_db, csettings: Settings) -> tuple[Who, Who, list]:
    client = redis_client(csettings.redis_url)
    try:
        assert await ready(client)
        await client.flushdb()  # every master's
    finally:
        await client.aclose()
    rng = random.Random(5)
    async with make_sessionmaker(clean_db)() as s, s.begin():
        await seed_world(s, ack_timeout_s=600)
        op = await add_user(s, csettings, username="op", role="operator", region_code="D")
        admin = await add_user(s, csettings, username="boss", role="admin")
        workers = await add_workers(s, csettings, [at(rng.uniform(0.3, 3.7), rng.uniform(0.3, 3.7))
                                                   for _ in range(10)], max_load=10)
    return op, admin, workers


@pytest.fixture(name="groups")
def groups_fixture(town, csettings: Settings, tmp_path: Path) -> Iterator[dict[str, str]]:
    # Accounts cached 30 s: a socket closed within 2 s of a change was told through the cluster's pub/sub.
    with node_alerts.two_groups(csettings, node_alerts.shared_dir(tmp_path / "shared", csettings),
                                GRIDCMD_ACCOUNT_CACHE_S="30") as urls:
        yield urls


async def test_alerts_are_dispatched_and_heard_across_groups_on_a_cluster(town, groups, clean_db, csettings) -> None:
    op, _, workers = town
    out, post = await node_alerts.alerts_across_groups(groups, clean_db, op, workers, rate=RATE, seconds=SECONDS)
    per_group = int(RATE * SECONDS)
    node_alerts.check_heard_once_everywhere(out, post, per_group)
    async with clean_db.connect() as conn:  # each alert staffed by one worker, claimed on the cluster
        staffed = (await conn.execute(text(
            "SELECT count(DISTINCT incident_id) FROM orders WHERE worker_id IS NOT NULL"))).scalar_one()
    assert staffed == 2 * per_group
    client = redis_client(csettings.redis_url)
    try:
        await ready(client)
        # The live state was rebuilt by a group on the master owning `{gc}` and names that master's run id (the
        # claims above test the same inline); the stream lives under its own tag.
        assert await presence.is_live(client)
        assert await client.get(keys.DEFAULT.live_marker) == await presence.server_id(client)
        assert await client.xlen(keys.STREAM) >= out["events"]
    finally:
        await client.aclose()


async def test_a_disabled_account_loses_its_socket_on_the_other_group(town, groups) -> None:
    op, admin, _ = town
    port_a, port_b = (int(groups[g].rsplit(":", 1)[1]) for g in "AB")
    ws = await open_ws(port_b, op.token)
    try:
        await subscribe(ws, "D")
        since = time.monotonic()
        async with httpx.AsyncClient(timeout=10) as http:
            r = await http.post(f"http://127.0.0.1:{port_a}/api/v1/admin/users/{op.principal.user_id}/disable",
                                headers=admin.headers)
            assert r.status_code in (200, 204), r.text
        code, _ = await closed_with(ws, within=5)
        took = time.monotonic() - since
    finally:
        await ws.close()
    assert code == 4401, code
    assert took <= 2.0, f"closed after {took:.2f} s"  # heard through the cluster's pub/sub, not the cache window
