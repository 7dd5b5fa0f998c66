"""The test installation: which PostgreSQL database and Redis db number this suite uses, its settings, and the
tables tests write to.

Environment: GRIDCMD_TEST_DB (database name, default gridcmd_test), GRIDCMD_TEST_REDIS_DB (Redis db number,
default 15), GRIDCMD_TEST_PG and GRIDCMD_TEST_REDIS (the servers). Parallel developers each pick their own.
Under pytest-xdist (`make test` runs two workers) worker gwN, N > 0, uses `<db>_gwN` and Redis db `<db> - N`."""

from __future__ import annotations

import os

import psycopg
from redis.asyncio import Redis
from sqlalchemy import TextClause, text

from command.core.redis_client import cluster_from_url, is_cluster_url
from command.core.redis_client import ready as redis_ready
from command.core.settings import Settings

_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
_N = int(_WORKER[2:]) if _WORKER.startswith("gw") else 0
TEST_DB = os.environ.get("GRIDCMD_TEST_DB", "gridcmd_test") + (f"_gw{_N}" if _N else "")
TEST_REDIS_DB = int(os.environ.get("GRIDCMD_TEST_REDIS_DB", "15")) - _N
BASE_PG = os.environ.get("GRIDCMD_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
BASE_REDIS = os.environ.get("GRIDCMD_TEST_REDIS", "redis://127.0.0.1:6379")
# A Redis Cluster URL (redis+cluster://host:port,.../, scripts/redis-cluster.sh prints one): the suite's Redis is
# that cluster instead of BASE_REDIS/TEST_REDIS_DB. Only suites that run on a cluster (tests/dispatch) should be
# run with it: the cluster has one database, which the `redis` fixture flushes.
TEST_REDIS_CLUSTER = os.environ.get("GRIDCMD_TEST_REDIS_CLUSTER", "")

# Tables whose rows tests create; reference data (regions…) is kept between tests unless reset.
MUTABLE_TABLES = ("events", "orders", "incidents", "workers", "users", "routing_rules",
                  "departments", "categories", "resource_points", "regions",
                  # closed loop (migration 0002)
                  "deadline_rules", "deadlines", "extension_requests", "incident_links", "callbacks", "uploads",
                  "patrol_tasks", "patrol_visits", "patrol_findings", "hotline_categories", "hotline_outbox",
                  # Idempotency-Keys of actions (migration 0004)
                  "request_keys",
                  # identity and access (migration 0007)
                  "revoked_sessions", "login_attempts",
                  # the admin console (migration 0011)
                  "audit_log", "calendar_overrides",
                  # outside interfaces (migrations 0012, 0013)
                  "open311_clients", "open311_requests", "platform_mappings",
                  "gps_devices", "cap_messages", "cap_category_map",
                  # assessment (migration 0015)
                  "assessment_results", "assessment_schemes", "worker_positions",
                  # notices, duty roster, handovers (migration 0017)
                  "notices", "notice_recipients", "duty_shifts", "handovers", "service_items",
                  # petitions (migration 0018)
                  "petitions",
                  # daily facts (migration 0020)
                  "daily_facts", "daily_facts_days", "daily_facts_state",
                  # published reports (migration 0019)
                  "report_subscriptions", "published_reports")


def empty_tables_sql(tables: tuple[str, ...] | list[str]) -> TextClause:
    """One statement that leaves `tables` empty with their sequences at their start, as
    `TRUNCATE … RESTART IDENTITY CASCADE` would, truncating only the tables that hold rows: a TRUNCATE of all 46
    took ~0.1 s, paid by every test that starts clean. An empty table's sequences are reset by setval (a rolled-back
    insert advances them too)."""
    names = ", ".join(f"'{t}'" for t in tables)
    return text(f"""
DO $$
DECLARE
  wanted text[] := ARRAY[{names}];
  dirty text[] := '{{}}';
  t text;
  held boolean;
  seq regclass;
BEGIN
  FOREACH t IN ARRAY wanted LOOP
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I)', t) INTO held;
    IF held THEN dirty := dirty || t; END IF;
  END LOOP;
  IF cardinality(dirty) > 0 THEN
    EXECUTE 'TRUNCATE ' || (SELECT string_agg(quote_ident(x), ', ') FROM unnest(dirty) x)
         || ' RESTART IDENTITY CASCADE';
  END IF;
  FOR seq IN
    SELECT d.objid::regclass FROM pg_depend d JOIN pg_class tab ON tab.oid = d.refobjid
     WHERE d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
       AND (SELECT relkind FROM pg_class WHERE oid = d.objid) = 'S'
       AND tab.relname = ANY(wanted) AND NOT tab.relname = ANY(dirty)
  LOOP
    PERFORM setval(seq, (SELECT seqstart FROM pg_sequence WHERE seqrelid = seq), false);
  END LOOP;
END $$""")


def make_test_settings(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": f"{BASE_PG}/{TEST_DB}",
        "redis_url": TEST_REDIS_CLUSTER or f"{BASE_REDIS}/{TEST_REDIS_DB}",
        "secret_key": "test-secret-key-for-gridcmd-tests-0123456789",
    }
    values.update(overrides)
    return Settings(**values)


def redis_client(url: str) -> Redis:
    """A client for the test Redis URL: the cluster client for a redis+cluster:// URL. Room for 1,000
    connections (per node): the concurrency tests have hundreds of calls in flight on one client."""
    if is_cluster_url(url):
        return cluster_from_url(url, decode_responses=True, max_connections=1000)
    return Redis.from_url(url, decode_responses=True, max_connections=1000)


async def ready(*clients: Redis) -> None:
    """Initialize cluster clients before concurrent use (command.core.redis_client.ready); a test's cluster answers."""
    for c in clients:
        assert await redis_ready(c), "no node of the test's Redis Cluster answers"


def recreate_database() -> None:
    with psycopg.connect(f"{BASE_PG}/postgres", autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (TEST_DB,),
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{TEST_DB}"')
        conn.execute(f'CREATE DATABASE "{TEST_DB}"')
