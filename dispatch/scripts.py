"""The Lua scripts of dispatch/scripts/, read once and registered once per Redis client (as rq's scripts.py).

Each script is run with EVALSHA; redis-py loads it again by itself if the server lost it (SCRIPT FLUSH, a
restarted Redis)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from weakref import WeakKeyDictionary

from redis.asyncio import Redis
from redis.commands.core import AsyncScript

_DIR = Path(__file__).resolve().parent / "scripts"
# The event stream's two scripts live here too: one loader for every Lua script of the project.
NAMES = ("live", "assign", "claim", "release", "pop_due", "report", "warmup", "stream_publish", "stream_advance",
         "login_gate", "login_failed", "search", "run_id")

_registered: WeakKeyDictionary[Redis, dict[str, AsyncScript]] = WeakKeyDictionary()


@cache
def source(name: str) -> str:
    if name not in NAMES:
        raise KeyError(f"no dispatch script named {name!r}")
    return (_DIR / f"{name}.lua").read_text(encoding="utf-8")


def script(redis: Redis, name: str) -> AsyncScript:
    """The named script bound to this client (registered on first use)."""
    per_client = _registered.setdefault(redis, {})
    found = per_client.get(name)
    if found is None:
        found = per_client[name] = redis.register_script(source(name))
    return found
