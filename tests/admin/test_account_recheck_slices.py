"""The account sweep re-checks a process's sockets in slices and yields the event loop between them (a process with
1,548 worker sockets held its loop for 30-370 ms per sweep: web/account_watch.py `recheck`); every socket is still
judged, in every slice."""

from __future__ import annotations

import asyncio
import itertools
from types import SimpleNamespace

from sqlalchemy import insert, text

from command.admin.accounts import AccountCache
from command.core.db import make_sessionmaker
from command.core.models import User
from command.core.security import Principal, TokenClaims
from web import account_watch
from web.account_watch import AccountWatch

USERS = 5 * account_watch._RECHECK_SLICE + 17


class CountingCache(AccountCache):
    """Notes each read: how many accounts, and how often the event loop ran other work before it."""

    def __init__(self) -> None:
        super().__init__(ttl_s=30)
        self.reads: list[tuple[int, int]] = []
        self.ticks = 0

    async def states(self, session, user_ids, *, fresh: bool = False):  # type: ignore[no-untyped-def]
        ids = list(user_ids)
        self.reads.append((len(ids), self.ticks))
        return await super().states(session, ids, fresh=fresh)


class Socket:
    def __init__(self, claims: TokenClaims) -> None:
        self.claims = claims
        self.revoked: str | None = None

    def revoke(self, reason: str) -> None:
        self.revoked = reason


async def test_every_socket_is_judged_in_slices_with_the_loop_free_between_them(clean_db, settings) -> None:
    async with clean_db.begin() as conn:
        ids = list((await conn.execute(insert(User).returning(User.id), [
            {"username": f"r{i}", "display_name": f"r{i}", "role": "worker", "password_hash": "!"}
            for i in range(USERS)])).scalars())
        disabled = {ids[3], ids[account_watch._RECHECK_SLICE + 1], ids[-1]}  # in the first, second and last slice
        await conn.execute(text("UPDATE users SET active = false WHERE id = ANY(:ids)"), {"ids": list(disabled)})
    cache = CountingCache()
    watch = AccountWatch(settings, cache)
    watch.app = SimpleNamespace(state=SimpleNamespace(sessionmaker=make_sessionmaker(clean_db)))  # type: ignore[assignment]
    sockets = {}
    for uid in ids:
        sockets[uid] = Socket(TokenClaims(principal=Principal(user_id=uid, username="x", role="worker"),
                                          session_id=f"s{uid}", token_id=f"t{uid}", expires_at=4e9, auth_time=0.0))
        watch.register(sockets[uid])

    async def ticker() -> None:
        while True:
            cache.ticks += 1
            await asyncio.sleep(0)

    running = asyncio.create_task(ticker())
    await watch.recheck(ids)
    running.cancel()

    assert {uid for uid, s in sockets.items() if s.revoked} == disabled
    assert all(sockets[uid].revoked == "the account is disabled" for uid in disabled)
    sizes = [n for n, _ in cache.reads]
    assert sum(sizes) == USERS and max(sizes) <= account_watch._RECHECK_SLICE  # every account, a slice at a time
    assert len(sizes) == -(-USERS // account_watch._RECHECK_SLICE)
    ticks = [t for _, t in cache.reads]
    assert all(b > a for a, b in itertools.pairwise(ticks))  # other work ran between two slices
