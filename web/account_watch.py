"""Per web process: hears account changes through Redis, forgets its cached state of those accounts and closes
their sockets that no longer stand (4401); also sweeps every open socket against PostgreSQL every
account_cache_s, in case an announcement was lost (docs/security.md, docs/realtime.md).

The cache (command.admin.accounts.AccountCache) is trusted only while the subscription is up: from the moment it is
(re)established — the cache is emptied then, messages may have been missed — until it breaks. Redis down or the
subscription lost: every request reads the account from PostgreSQL. A Redis flush does not touch pub/sub."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import Iterable
from typing import Protocol

from fastapi import FastAPI
from redis.exceptions import RedisError

from command.admin.account_admin import announce, channel, parse_announcement
from command.admin.accounts import AccountCache, refusal
from command.core.redis_client import ready as redis_ready
from command.core.redis_client import redis_from_url
from command.core.security import TokenClaims
from command.core.settings import Settings
from web.hub import stop_tasks

log = logging.getLogger(__name__)

_POLL_S = 1.0  # longest wait for a message: how often the listener looks at its stop flag
_HEALTH_CHECK_S = 5  # redis-py pings an idle subscription this often: a dead connection shows up as an error
_RETRY_S = 1.0
_RECHECK_SLICE = 200  # accounts read and judged between two yields of the event loop
CLIENT_NAME = "gridcmd-account-watch"  # as CLIENT LIST shows the subscription


class GuardedSocket(Protocol):
    """What the watch needs of an open socket (web.api.ws.Connection)."""

    claims: TokenClaims

    def revoke(self, reason: str) -> None: ...


class AccountWatch:
    def __init__(self, settings: Settings, cache: AccountCache) -> None:
        self.settings = settings
        self.cache = cache
        self.sockets: defaultdict[int, set[GuardedSocket]] = defaultdict(set)
        self._tasks: list[asyncio.Task] = []
        self._rechecks: set[asyncio.Task] = set()
        self._stopping = False
        self.app: FastAPI | None = None

    # -- sockets --------------------------------------------------------------------------------------------

    def register(self, socket: GuardedSocket) -> None:
        self.sockets[socket.claims.principal.user_id].add(socket)

    def unregister(self, socket: GuardedSocket) -> None:
        uid = socket.claims.principal.user_id
        members = self.sockets.get(uid)
        if members is not None:
            members.discard(socket)
            if not members:
                del self.sockets[uid]

    async def recheck(self, user_ids: Iterable[int]) -> None:
        """Close the sockets of these accounts whose token no longer stands (state read through the cache)."""
        ids = [uid for uid in set(user_ids) if uid in self.sockets]
        if not ids or self.app is None:
            return
        # In slices, yielding between them: a process re-checks all its sockets' accounts every account_cache_s,
        # and 1,548 at once held its event loop for 30-70 ms (290-370 ms now and then) while alerts waited.
        for start in range(0, len(ids), _RECHECK_SLICE):
            chunk = ids[start:start + _RECHECK_SLICE]
            async with self.app.state.sessionmaker() as session:
                states = await self.cache.states(session, chunk)
            for uid in chunk:
                for socket in list(self.sockets.get(uid, ())):
                    reason = refusal(socket.claims, states.get(uid))
                    if reason is not None:
                        socket.revoke(reason)
            await asyncio.sleep(0)

    def _recheck_soon(self, user_ids: Iterable[int]) -> None:
        task = asyncio.create_task(self._recheck_quietly(list(user_ids)), name="account-recheck")
        self._rechecks.add(task)
        task.add_done_callback(self._rechecks.discard)

    async def _recheck_quietly(self, user_ids: list[int]) -> None:
        try:
            await self.recheck(user_ids)
        except Exception as exc:  # PostgreSQL away: the next sweep tries again; sockets are not dropped for it
            log.warning("re-checking the sockets of accounts %s failed: %s", user_ids[:10], exc)

    # -- changes --------------------------------------------------------------------------------------------

    async def changed(self, user_ids: set[int]) -> None:
        """Accounts changed by a transaction this process just committed: forget them here and now, tell every
        other process, and re-check their sockets here (the announcement comes back too; re-checking twice is
        harmless, missing it when Redis is down is not)."""
        self.cache.evict(user_ids)
        if self.app is not None:
            await announce(self.app.state.redis, user_ids)
        self._recheck_soon(user_ids)

    def _heard(self, user_ids: set[int]) -> None:
        self.cache.evict(user_ids)
        self._recheck_soon(user_ids)

    # -- background ------------------------------------------------------------------------------------------

    async def start(self, app: FastAPI) -> None:
        self.app = app
        self._tasks = [asyncio.create_task(self._listen(), name="account-listen"),
                       asyncio.create_task(self._sweep(), name="account-sweep")]

    async def stop(self) -> None:
        self._stopping = True
        # Both are cancelled at once: the sweep only sleeps between passes, and the listener would otherwise notice
        # the flag only when its wait for a message ends (up to _POLL_S: every app shutdown, a test's included,
        # took that long). Its `finally` closes the subscription either way.
        for task in self._tasks:
            task.cancel()
        await stop_tasks([*self._tasks, *self._rechecks])
        self.cache.trusted = False

    async def _listen(self) -> None:
        while not self._stopping:
            client = redis_from_url(self.settings.redis_url, decode_responses=True, client_name=CLIENT_NAME,
                                    health_check_interval=_HEALTH_CHECK_S)
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                if not await redis_ready(client):  # a cluster client picks the channel's node from the slots
                    raise ConnectionError("no Redis Cluster node answers")
                await pubsub.subscribe(channel(client))
                self.cache.clear()  # whatever changed while nobody listened is read afresh
                self.cache.trusted = True
                self._recheck_soon(list(self.sockets))
                while not self._stopping:
                    message = await pubsub.get_message(timeout=_POLL_S)
                    if message is not None and message.get("type") == "message":
                        self._heard(parse_announcement(str(message.get("data", ""))))
            except (RedisError, OSError) as exc:
                if not self._stopping:
                    log.warning("account changes: subscription lost, reading accounts from PostgreSQL: %s", exc)
            finally:
                self.cache.trusted = False
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
                with contextlib.suppress(Exception):
                    await client.aclose()
            if not self._stopping:
                await asyncio.sleep(_RETRY_S)

    async def _sweep(self) -> None:
        interval = max(0.5, self.settings.account_cache_s or 1.0)
        while not self._stopping:
            await asyncio.sleep(interval)
            started = time.monotonic()
            await self._recheck_quietly(list(self.sockets))
            if time.monotonic() - started > interval:
                log.warning("account sweep of %d users took %.1f s", len(self.sockets), time.monotonic() - started)


def install(app: FastAPI) -> None:
    """app.state.accounts (the cache) and app.state.account_watch, started and stopped with the app."""
    settings: Settings = app.state.settings
    app.state.accounts = AccountCache(settings.account_cache_s)
    app.state.account_watch = AccountWatch(settings, app.state.accounts)

    async def start(app: FastAPI) -> None:
        await app.state.account_watch.start(app)

    async def stop(app: FastAPI) -> None:
        await app.state.account_watch.stop()

    app.state.startup_hooks.append(start)
    app.state.shutdown_hooks.append(stop)
