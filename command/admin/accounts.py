"""Whether a token still stands for its account: the account's current state, cached per process for a few seconds.

Every authenticated request and every open socket is held against the account as PostgreSQL has it now: it must
exist and be active, its token version must be the token's (a password, role, scope or active change, and "end all
sessions", bump it), its role and scope must be the token's, and the token's session must not be revoked
(logout). The state is cached per process for at most `account_cache_s`; a change is announced through Redis
(web/account_watch.py) and evicts the entry in every process at once. The cache is only used while that
announcement channel is known to work: without it (Redis down, subscription lost) every check reads PostgreSQL —
slower, never staler (docs/security.md)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Integer, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from command.core.errors import NotAuthenticated
from command.core.models import RevokedSession, User, Worker
from command.core.security import TokenClaims

_PRUNE_EVERY = 1024  # inserts between sweeps of expired entries (bounds memory without a timer)


@dataclass(frozen=True, slots=True)
class AccountState:
    user_id: int
    active: bool
    version: int
    role: str
    region_code: str | None
    department_code: str | None
    worker_id: int | None
    revoked_sessions: frozenset[str]


def refusal(claims: TokenClaims, state: AccountState | None) -> str | None:
    """Why the token no longer stands for the account (None: it does). The same words for every caller."""
    if state is None:
        return "the account no longer exists"
    if not state.active:
        return "the account is disabled"
    p = claims.principal
    if (p.version != state.version or p.role != state.role or p.region_code != state.region_code
            or p.department_code != state.department_code or p.worker_id != state.worker_id):
        return "the account changed or its sessions were ended: log in again"
    if claims.session_id in state.revoked_sessions:
        return "signed out: log in again"
    return None


async def load_states(session: AsyncSession, user_ids: Iterable[int]) -> dict[int, AccountState | None]:
    """The current state of each account (None for one that does not exist), in one statement."""
    ids = sorted(set(user_ids))
    found: dict[int, AccountState | None] = dict.fromkeys(ids)
    if not ids:
        return found
    worker = select(Worker.id).where(Worker.user_id == User.id).limit(1).scalar_subquery()
    revoked = (select(func.array_agg(RevokedSession.session_id))
               .where(RevokedSession.user_id == User.id, RevokedSession.expires_at > func.now())
               .scalar_subquery())
    # One array parameter, not an IN list: one statement text whatever the number of ids (prepared once per
    # connection) and less CPU on the event loop (1,548 ids alone: 8.3 -> 6.0 ms). The account sweep reads the
    # accounts of all a process's sockets every few seconds (web/account_watch.py, in slices).
    rows = await session.execute(
        select(User.id, User.active, User.token_version, User.role, User.region_code, User.department_code,
               worker, revoked).where(User.id == any_(bindparam("ids", ids, type_=ARRAY(Integer)))))
    for uid, active, version, role, region, department, worker_id, sessions in rows:
        found[uid] = AccountState(user_id=uid, active=active, version=version, role=role, region_code=region,
                                  department_code=department, worker_id=worker_id,
                                  revoked_sessions=frozenset(sessions or ()))
    return found


class AccountCache:
    """Account states of this process, each kept at most `ttl_s` and only while `trusted` (changes reach us).

    A load that raced an eviction is not stored: `_epoch` moves on every eviction, and a load started under an
    older epoch may have read the row before the change committed."""

    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self.trusted = False  # set by the watcher while its subscription to account changes is up
        self._entries: dict[int, tuple[float, AccountState]] = {}
        self._epoch = 0
        self._inserts = 0

    def evict(self, user_ids: Iterable[int]) -> None:
        self._epoch += 1
        for uid in user_ids:
            self._entries.pop(uid, None)

    def clear(self) -> None:
        self._epoch += 1
        self._entries.clear()

    async def states(self, session: AsyncSession, user_ids: Iterable[int], *,
                     fresh: bool = False) -> dict[int, AccountState | None]:
        """Each account's state, from the cache while fresh (never when `fresh`: read PostgreSQL now)."""
        now = time.monotonic()
        out: dict[int, AccountState | None] = {}
        missing = []
        for uid in set(user_ids):
            hit = self._entries.get(uid) if self.trusted and not fresh else None
            if hit is not None and hit[0] > now:
                out[uid] = hit[1]
            else:
                missing.append(uid)
        if missing:
            epoch = self._epoch
            loaded = await load_states(session, missing)
            out.update(loaded)
            if self.trusted and self.ttl_s > 0 and epoch == self._epoch:
                until = time.monotonic() + self.ttl_s
                for uid, state in loaded.items():
                    if state is not None:  # an absent account is never cached: creating one announces nothing
                        self._entries[uid] = (until, state)
                self._inserts += len(loaded)
                if self._inserts >= _PRUNE_EVERY:
                    self._prune()
        return out

    async def state(self, session: AsyncSession, user_id: int, *, fresh: bool = False) -> AccountState | None:
        return (await self.states(session, [user_id], fresh=fresh))[user_id]

    async def check(self, session: AsyncSession, claims: TokenClaims, *, fresh: bool = False) -> AccountState:
        """The account's state, or NotAuthenticated when the token no longer stands for it."""
        state = await self.state(session, claims.principal.user_id, fresh=fresh)
        reason = refusal(claims, state)
        if reason is not None:
            raise NotAuthenticated(reason)
        assert state is not None
        return state

    def _prune(self) -> None:
        self._inserts = 0
        now = time.monotonic()
        for uid in [uid for uid, (until, _) in self._entries.items() if until <= now]:
            del self._entries[uid]
