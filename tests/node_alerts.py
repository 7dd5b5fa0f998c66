"""Alerts posted to two groups of web processes and heard on both groups' walls: the small version of
`python -m bench.nodes`, shared by tests/realtime/test_nodes.py (one Redis) and test_cluster_app.py (a Redis
Cluster)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from bench import node_groups, nodes_measure
from bench.wsclient import close_all
from command.core.settings import Settings
from tests.dispatch_fixtures import Who
from tests.procs import kernel_ports


def shared_dir(root: Path, settings: Settings) -> Path:
    """What the groups share besides PostgreSQL and Redis: the key file (and the uploads directory)."""
    shared = node_groups.shared_dir(root)
    key = shared / "secret_key"
    key.write_text(settings.secret_key + "\n")
    key.chmod(0o600)
    return shared


@contextmanager
def two_groups(settings: Settings, shared: Path, **env: str) -> Iterator[dict[str, str]]:
    """Groups A and B of one web process each on the settings' PostgreSQL and Redis; their URLs. Stopped after,
    and neither may have logged a traceback."""
    started = node_groups.start_groups(
        list(zip("AB", kernel_ports(2), strict=True)), processes=1, shared=shared,
        env={"DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url, "GRIDCMD_LOG_LEVEL": "warning",
             **env})
    try:
        yield {g.name: g.url for g in started}
    finally:
        tails = [node_groups.stop_group(g) for g in started]
    for tail in tails:
        assert "Traceback" not in tail, tail


async def alerts_across_groups(groups: dict[str, str], engine: AsyncEngine, op: Who,
                               workers: list[tuple[Who, tuple[float, float]]], *, rate: float,
                               seconds: float) -> tuple[dict, dict]:
    """Every worker reports its position (to either group), a wall of district D opens on each group, alerts near
    the workers are posted to both groups at `rate` each; the measured report and each group's POST statuses."""
    async with httpx.AsyncClient(timeout=10) as http:
        for i, (who, (lon, lat)) in enumerate(workers):
            r = await http.post(f"{groups['AB'[i % 2]]}/api/v1/workers/me/position", json={"lon": lon, "lat": lat},
                                headers=who.headers)
            assert r.status_code == 200, r.text
    walls = await nodes_measure.open_walls(groups, {"D": op.token}, per_group=1)
    try:
        baseline = await nodes_measure.last_event_id(engine)

        def maker(group: str):  # type: ignore[no-untyped-def]
            def make(i: int) -> nodes_measure.Alert:
                lon, lat = workers[(i * 3 + len(group)) % len(workers)][1]
                return nodes_measure.Alert({"category": "noise", "description": f"{group}{i}", "lon": lon + 1e-5,
                                            "lat": lat, "channel": "hotline"}, "D")
            return make

        sent, post = await nodes_measure.drive(groups, op.token, {g: maker(g) for g in groups}, rate=rate,
                                               seconds=seconds, clients=8)
        events = await nodes_measure.settle(engine, walls, sent, baseline, within_s=10)
        out = nodes_measure.report(walls, sent, events, seconds)
    finally:
        await close_all([w.rx for w in walls])
    return out, post


def check_heard_once_everywhere(out: dict, post: dict, per_group: int) -> None:
    """Every alert acknowledged, and heard on both groups' walls (A->B, B->A, A->A, B->B) once each, nothing missing."""
    assert {g: p["statuses"] for g, p in post.items()} == {"A": {"201": per_group}, "B": {"201": per_group}}
    assert {k: v["count"] for k, v in out["latency_ms"].items()} == {
        "A->A": per_group, "A->B": per_group, "B->A": per_group, "B->B": per_group}
    assert out["delivery"] == {"walls": 2, "missing": 0, "duplicates": 0, "out_of_scope": 0,
                               "frames": sum(w["expected"] for w in out["per_wall"]), "receiver_errors": 0}
