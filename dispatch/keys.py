"""Every Redis key name gridcmd uses, in one place: the live dispatch state, the event stream, throttles, channels.

All dispatch keys share the hash tag `{gc}` so that every script touches one Redis Cluster slot. A province that shards
by district would put the district code in the tag instead; nothing else would change, because no script
builds a key name: they all receive their keys in KEYS."""

from __future__ import annotations

from dataclasses import dataclass

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

# HASH {until: unix s, need: n}: written by a rebuild. Until `until`, or until `need` workers are present, claims
# of the nearest workers wait (the workers have not reported since the state was lost); the first claim that
# finds the wait over deletes it.
WARMUP = f"{TAG}:warmup"

# The keys a rebuild replaces (positions and presence are kept: they come from the workers, not PostgreSQL).
REBUILT = (DUTY, LOAD, MAX_LOAD, PENDING, ACK_TIMERS, WARMUP)
ALL = (LIVE_MARKER, POSITIONS, SEEN, DUTY, LOAD, MAX_LOAD, PENDING, ACK_TIMERS, WARMUP)



@dataclass(frozen=True, slots=True)
class Space:
    """The live dispatch keys of one shard: the same names as above under another hash tag (docs/cluster.md).

    On a Redis Cluster sharded by district, each district's workers live in `Space(district_tag(code))`, so every
    script still touches one slot, and different districts hash to different slots (spread over the masters). The
    default space `DEFAULT` is `{gc}`: exactly the module-level names, what a single instance uses."""

    tag: str

    def _k(self, name: str) -> str:
        return f"{self.tag}:{name}"

    @property
    def live_marker(self) -> str:
        return self._k("live")

    @property
    def positions(self) -> str:
        return self._k("pos")

    @property
    def seen(self) -> str:
        return self._k("seen")

    @property
    def duty(self) -> str:
        return self._k("duty")

    @property
    def load(self) -> str:
        return self._k("load")

    @property
    def max_load(self) -> str:
        return self._k("max")

    @property
    def pending(self) -> str:
        return self._k("pending")

    @property
    def ack_timers(self) -> str:
        return self._k("ack")

    @property
    def warmup(self) -> str:
        return self._k("warmup")

    @property
    def rebuilt(self) -> tuple[str, ...]:
        return (self.duty, self.load, self.max_load, self.pending, self.ack_timers, self.warmup)

    @property
    def all(self) -> tuple[str, ...]:
        return (self.live_marker, self.positions, self.seen, *self.rebuilt)


DEFAULT = Space(TAG)


def district_tag(code: str) -> str:
    """The hash tag of one district's shard of the live dispatch state."""
    if not code or any(c in code for c in "{}: "):
        raise ValueError(f"not a usable district code for a hash tag: {code!r}")
    return "{gc:" + code + "}"


def district_space(code: str) -> Space:
    return Space(district_tag(code))


# The live event stream (command.realtime.stream, command.realtime.relay). Its own hash tag: the stream is the hottest
# key, so on a Redis Cluster it may sit apart from the dispatch keys ({gc}); these must share one slot because
# stream_publish.lua touches them together.
EV_TAG = "{ev}"
STREAM = f"{EV_TAG}:stream"
PUBLISHED = f"{EV_TAG}:published"  # ZSET PostgreSQL event id -> txid, ids published and above the watermark
WATERMARK = f"{EV_TAG}:watermark"  # txid: every event of an older transaction is published
RELAY_LOCK = f"{EV_TAG}:relay-lock"  # one relay pass at a time (an optimisation: passes are idempotent)


def rate_window(bucket: str, client: str, window: int) -> str:
    """String counter (expires): requests of one client address to a rate-limited public endpoint in one
    fixed window (e.g. the resident tracking page, issue 4). Not live dispatch state; never rebuilt."""
    return f"{TAG}:rate:{bucket}:{client}:{window}"


def login_account(username_digest: str) -> str:
    """HASH {failures, until} (expires): failed logins of one username (known or not) and the time (unix ms)
    before which it may not try again (command/admin/login_throttle.py). Lost in a flush: the counting starts over."""
    return f"{TAG}:login:account:{username_digest}"


def login_address(address: str) -> str:
    """HASH {failures, until} (expires): failed logins from one client address, and its throttle (unix ms)."""
    return f"{TAG}:login:address:{address}"


def accounts_channel(db: int) -> str:
    """Pub/sub channel (not a key): user ids whose account changed, comma-separated; every web process evicts its
    cached state of them and re-checks their sockets (web/account_watch.py). Channels ignore the database
    number, so it is part of the name: installations sharing a Redis server on different databases never
    hear each other."""
    return f"{TAG}:accounts:db{db}"


def admin_progress(token: str) -> str:
    """How far an /admin region import has got ("done/total"), read by the page while it runs (expires)."""
    return f"{TAG}:admin:progress:{token}"
