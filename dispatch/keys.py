"""Every Redis key name the live dispatch state uses, in one place.

All keys share the hash tag `{gc}` so that every script touches one Redis Cluster slot. A province that shards
by district would put the district code in the tag instead; nothing else would change, because no script
builds a key name: they all receive their keys in KEYS."""

from __future__ import annotations

TAG = "{gc}"

# String: present while the live state is complete (written last by a rebuild). Claims refuse without it.
LIVE_MARKER = f"{TAG}:live"
# GEO set: worker id → last reported position (WGS-84).
POSITIONS = f"{TAG}:pos"
# ZSET: worker id → unix time (s) of the newest position report. Presence = newer than presence_ttl_s.
SEEN = f"{TAG}:seen"
# HASH: worker id → duty state chosen by the worker or operator: available | busy | off_duty.
DUTY = f"{TAG}:duty"
# HASH: worker id → orders held (offered or in hand). Missing = 0.
LOAD = f"{TAG}:load"
# HASH: worker id → the most orders the worker may hold. A worker without an entry cannot be claimed.
MAX_LOAD = f"{TAG}:max"
# ZSET: token of a load change made inside a PostgreSQL transaction not yet known committed → expiry (ms).
# An expired token means a process may have died between the change and its commit: reconcile loads.
PENDING = f"{TAG}:pending"
# ZSET: order id → ack deadline (unix ms). The timeout worker pops due members (one process wins each).
ACK_TIMERS = f"{TAG}:ack"

# The keys a rebuild replaces (positions and presence are kept: they come from the workers, not PostgreSQL).
REBUILT = (DUTY, LOAD, MAX_LOAD, PENDING, ACK_TIMERS)
ALL = (LIVE_MARKER, POSITIONS, SEEN, DUTY, LOAD, MAX_LOAD, PENDING, ACK_TIMERS)


def rate_window(bucket: str, client: str, window: int) -> str:
    """String counter (expires): requests of one client address to a rate-limited public endpoint in one
    fixed window (e.g. the resident tracking page, issue 4). Not live dispatch state; never rebuilt."""
    return f"{TAG}:rate:{bucket}:{client}:{window}"
