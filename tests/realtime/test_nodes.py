"""Two groups of web processes sharing nothing but PostgreSQL, Redis, the key file and the uploads directory
(bench/node_groups.py, as two machines): a wall on B hears every alert posted to A, once, and the reverse; every
event of its region reaches each wall exactly once (the small version of `python -m bench.nodes`)."""

from __future__ import annotations

import random
import socket
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import node_groups, nodes_measure
from bench.wsclient import Receiver
from command.core.db import make_sessionmaker
from tests import node_alerts
from tests.dispatch_fixtures import add_user, add_workers, at, seed_world
from tests.environment import make_test_settings

RATE, SECONDS = 4.0, 2.0  # per group: 8 alerts posted to each


@pytest.fixture(name="nsettings")
def nodes_settings():
    return make_test_settings(dispatch_background=False)  # this process drives nothing; the groups do


@pytest.fixture(name="town")
async def town_fixture(clean_db, redis, nsettings):
    rng = random.Random(3)
    async with make_sessionmaker(clean_db)() as s, s.begin():
        await seed_world(s, ack_timeout_s=600)
        op = await add_user(s, nsettings, username="op", role="operator", region_code="D")
        workers = await add_workers(s, nsettings, [at(rng.uniform(0.3, 3.7), rng.uniform(0.3, 3.7))
                                                   for _ in range(10)], max_load=10)
    return op, workers


@pytest.fixture(name="shared")
def shared_fixture(tmp_path: Path, nsettings) -> Path:
    return node_alerts.shared_dir(tmp_path / "shared", nsettings)


@pytest.fixture(name="groups")
def groups_fixture(town, nsettings, shared) -> Iterator[dict[str, str]]:
    with node_alerts.two_groups(nsettings, shared) as urls:
        yield urls


async def test_a_wall_on_one_group_hears_every_alert_posted_to_the_other_once(town, groups, clean_db) -> None:
    op, workers = town
    out, post = await node_alerts.alerts_across_groups(groups, clean_db, op, workers, rate=RATE, seconds=SECONDS)
    print(f"\n{out['alerts_accepted']} alerts, {out['events']} events; latency ms "
          f"{ {k: (v.get('p50_ms'), v.get('max_ms')) for k, v in out['latency_ms'].items()} }; {out['delivery']}")
    per_group = int(RATE * SECONDS)
    node_alerts.check_heard_once_everywhere(out, post, per_group)
    assert out["alerts_accepted"] == 2 * per_group
    assert out["alerts_missed_by_walls"] == {}
    assert out["events"] >= 2 * 2 * per_group  # at least created and an order per alert
    assert all(w["expected"] >= 2 * 2 * per_group for w in out["per_wall"])


def _rx(name: str, ids: list[int], seen: dict[int, float]) -> Receiver:
    r = Receiver(name, ws=None)  # type: ignore[arg-type]  # never read: the counts are set by hand
    r.event_ids = Counter(ids)
    r.first_seen = dict(seen)
    return r


def test_the_report_counts_a_missing_event_a_duplicate_and_an_unheard_alert() -> None:
    walls = [nodes_measure.Wall("A", "D", _rx("a", [1, 2, 2], {10: 1.05})),
             nodes_measure.Wall("B", "D", _rx("b", [1, 9], {}))]
    sent = {10: nodes_measure.Sent(1.0, "A", "D")}
    events = [(1, ["D"]), (2, ["D"]), (9, ["E"])]
    out = nodes_measure.report(walls, sent, events, 1.0)
    assert out["latency_ms"]["A->A"]["count"] == 1 and 49 < out["latency_ms"]["A->A"]["p50_ms"] < 51
    assert out["alerts_missed_by_walls"] == {"A->B": 1}
    assert {k: out["delivery"][k] for k in ("missing", "duplicates", "out_of_scope")} == {
        "missing": 1, "duplicates": 1, "out_of_scope": 1}


def test_a_group_that_cannot_start_says_why(nsettings, shared) -> None:
    env = {"DATABASE_URL": nsettings.database_url, "REDIS_URL": nsettings.redis_url}
    # Another program holds the port: the group's server cannot bind it. With 2 workers uvicorn binds before it
    # imports the app, so this fails in seconds.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(RuntimeError, match=f"group X \\(port {port}\\): the server exited") as err:
            node_groups.start_groups([("X", port)], processes=2, env=env, shared=shared, timeout=30)
    assert "address already in use" in str(err.value).lower()
