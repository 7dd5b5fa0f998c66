"""The process's Redis clients, all built here: a plain Redis, the master that Redis Sentinel names, or a Redis
Cluster (`redis+cluster://host:port,host:port/`, docs/cluster.md).

`REDIS_URL` is either redis-py's usual form (`redis://host:port/db`, `rediss://`, `unix://`) or
`redis+sentinel://[:password@]host1:26379,host2:26379/<service>/<db>` (docs/failover.md): the client asks the
Sentinels which server is the master of `<service>` whenever it opens a connection, so after a failover every new
connection goes to the promoted replica (redis-py's SentinelConnectionPool; a connection to the old master that
answers READONLY is dropped and raised as a ConnectionError, i.e. the existing Redis-outage path)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import parse_qs, unquote, urlsplit

from redis.asyncio import BlockingConnectionPool, ConnectionPool, Redis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool
from redis.exceptions import RedisClusterException, RedisError

from command.core.settings import Settings

SENTINEL_SCHEMES = ("redis+sentinel", "rediss+sentinel")
CLUSTER_SCHEME = "redis+cluster"


class SentinelBlockingConnectionPool(SentinelConnectionPool, BlockingConnectionPool):
    """SentinelConnectionPool's master discovery with BlockingConnectionPool's wait for a free connection."""


@dataclass(frozen=True, slots=True)
class SentinelTarget:
    sentinels: list[tuple[str, int]]
    service: str
    db: int
    password: str | None
    sentinel_password: str | None
    ssl: bool


def parse_sentinel_url(url: str) -> SentinelTarget:
    """`redis+sentinel://[:password@]host:port[,host:port...]/service[/db][?sentinel_password=...]`.

    The password (if any) is the Redis servers'; the Sentinels' own is the `sentinel_password` query parameter."""
    parts = urlsplit(url)
    if parts.scheme not in SENTINEL_SCHEMES:
        raise ValueError(f"not a Sentinel URL: {url!r}")
    netloc = parts.netloc
    password: str | None = None
    if "@" in netloc:
        auth, netloc = netloc.rsplit("@", 1)
        password = unquote(auth.split(":", 1)[1] if ":" in auth else auth) or None
    sentinels: list[tuple[str, int]] = []
    for node in netloc.split(","):
        host, _, port = node.rpartition(":") if ":" in node else (node, "", "26379")
        sentinels.append((host.strip("[]"), int(port or 26379)))
    path = [p for p in parts.path.split("/") if p]
    if not path or not sentinels or not sentinels[0][0]:
        raise ValueError(f"a Sentinel URL names its Sentinels and the service: {url!r}")
    sentinel_password = parse_qs(parts.query).get("sentinel_password")
    return SentinelTarget(sentinels=sentinels, service=unquote(path[0]), db=int(path[1]) if len(path) > 1 else 0,
                          password=password, sentinel_password=sentinel_password[0] if sentinel_password else None,
                          ssl=parts.scheme.startswith("rediss"))


def is_sentinel_url(url: str) -> bool:
    return url.split("://", 1)[0] in SENTINEL_SCHEMES


def redis_from_url(url: str, *, blocking: bool = False, max_connections: int | None = None,
                   pool_timeout_s: float | None = None, **kwargs: Any) -> Redis:
    """Every Redis client of the project is made here (a plain, Sentinel or Cluster URL), with redis-py's
    connection options in kwargs (decode_responses, socket_timeout, client_name, health_check_interval...).
    `blocking`: the pool waits up to pool_timeout_s for a free connection instead of raising at once (not for a
    cluster: redis-py's cluster client has no waiting pool)."""
    if is_cluster_url(url):
        return cluster_from_url(url, max_connections=max_connections, **kwargs)
    pool_kwargs: dict[str, Any] = dict(kwargs)
    if max_connections is not None:
        pool_kwargs["max_connections"] = max_connections
    if blocking:
        pool_kwargs["timeout"] = pool_timeout_s
    if not is_sentinel_url(url):
        pool_class = BlockingConnectionPool if blocking else ConnectionPool
        return Redis(connection_pool=pool_class.from_url(url, **pool_kwargs))
    target = parse_sentinel_url(url)
    # The Sentinels are asked with the same bounded timeouts (a dead Sentinel is skipped, not waited on).
    sentinel_kwargs: dict[str, Any] = {k: v for k, v in kwargs.items() if k.startswith("socket_")}
    if target.sentinel_password:
        sentinel_kwargs["password"] = target.sentinel_password
    sentinel = Sentinel(target.sentinels, sentinel_kwargs=sentinel_kwargs)  # type: ignore[no-untyped-call]
    if target.password:
        pool_kwargs["password"] = target.password
    if target.ssl:
        pool_kwargs["ssl"] = True
    client: Redis = sentinel.master_for(target.service, redis_class=Redis, db=target.db,
                                        connection_pool_class=SentinelBlockingConnectionPool if blocking
                                        else SentinelConnectionPool, **pool_kwargs)
    return client


def make_redis(settings: Settings) -> Redis:
    """A client whose pool waits for a free connection. redis-py's default pool raises MaxConnectionsError the
    moment more than its 100 connections are wanted at once, which a burst of requests in one process reaches
    (the benchmark's transport floor saw it as HTTP 500s after a pause); waiting a few milliseconds is right.

    Connecting and every command's answer are bounded by `redis_timeout_s` (a Redis that is down or hung: an
    error, so a 503 or a retry, never an open-ended wait)."""
    return redis_from_url(settings.redis_url, blocking=True, max_connections=settings.redis_max_connections,
                          pool_timeout_s=settings.redis_pool_timeout_s, decode_responses=True,
                          socket_timeout=settings.redis_timeout_s, socket_connect_timeout=settings.redis_timeout_s)


def is_cluster_url(url: str) -> bool:
    return urlsplit(url).scheme == CLUSTER_SCHEME


def cluster_nodes(url: str) -> list[ClusterNode]:
    """The startup nodes of `redis+cluster://host:port,host:port/` (any one that answers is enough)."""
    parts = urlsplit(url)
    if parts.scheme != CLUSTER_SCHEME:
        raise ValueError(f"not a {CLUSTER_SCHEME}:// URL: {url!r}")
    if parts.path not in ("", "/", "/0"):
        raise ValueError("a Redis Cluster has only database 0: no other database number in a cluster URL")
    nodes = []
    for hostport in parts.netloc.rsplit("@", 1)[-1].split(","):
        host, _, port = hostport.strip().rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"cluster node {hostport!r} is not host:port")
        nodes.append(ClusterNode(host, int(port)))
    return nodes


def cluster_from_url(url: str, *, max_connections: int | None = None, **kwargs: Any) -> Redis:
    """redis-py's cluster client. It routes each command and each script call by the slot of its keys; every
    script's keys share one hash tag (dispatch/keys.py), so each runs on one shard.

    Its pool per node does not wait: more than `max_connections` commands in flight to one node at once raise
    MaxConnectionsError (redis-py has no blocking pool for the cluster client). Call `ready()` before concurrent
    use.

    Typed as `Redis`: gridcmd uses only commands, pipelines, scripts and pub/sub that the cluster client has too;
    the dispatch suite and the web app's cluster tests run against a cluster to show it (docs/cluster.md)."""
    parts = urlsplit(url)
    options: dict[str, Any] = dict(kwargs)
    if max_connections is not None:
        options["max_connections"] = max_connections
    client = RedisCluster(startup_nodes=cluster_nodes(url), username=parts.username, password=parts.password,
                          **options)
    return cast(Redis, client)


async def ready(client: Redis) -> bool:
    """A cluster client learns the slots before concurrent use: redis-py 8.1's async RedisCluster, given its first
    commands by hundreds of tasks at once, initializes concurrently and resets connections under some of them
    (docs/cluster.md). A single-instance client needs nothing. False when no node answers now (the client then
    learns the slots at its first command, as a single client connects at its first)."""
    cluster = as_cluster(client)
    if cluster is None:
        return True
    try:
        await cluster.initialize()
    except (RedisError, RedisClusterException, OSError):
        return False
    return True


def as_cluster(client: Redis) -> RedisCluster | None:
    """The cluster client behind a client typed `Redis` (cluster_from_url casts it), or None."""
    found: object = client
    return found if isinstance(found, RedisCluster) else None


async def close(client: Redis) -> None:
    """Close the client and its connections (one built on a pool of ours keeps the pool open on a plain aclose();
    a cluster client closes its nodes' connections)."""
    cluster = as_cluster(client)
    if cluster is not None:
        await cluster.aclose()
    else:
        await client.aclose(close_connection_pool=True)


def database_number(client: Redis) -> int:
    """The database a client works in (a cluster has only database 0)."""
    if as_cluster(client) is not None:
        return 0
    return int(client.connection_pool.connection_kwargs.get("db", 0) or 0)


def connections_in_use(client: Redis) -> int:
    """Connections of the client's pool(s) lent out now: on a cluster, summed over its nodes' pools."""
    cluster = as_cluster(client)
    if cluster is not None:
        return sum(len(node._connections) - len(node._free) for node in cluster.get_nodes())
    in_use = getattr(client.connection_pool, "_get_in_use_connections", None)
    return len(list(in_use())) if in_use is not None else 0
