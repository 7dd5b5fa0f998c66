"""Work to run once a transaction's fate is known: after commit, or after rollback.

Redis changes made inside a PostgreSQL transaction (claims, releases) must be confirmed once it commits and
undone if it rolls back. Whoever owns the transaction (the request dependency, a job) just commits or rolls
back; these SQLAlchemy session events schedule the registered coroutines on the running loop. A process that
dies runs neither: that is what the pending tokens and the sweeper's reconcile are for (docs/dispatch.md)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from command.core.outage import OUTAGES

log = logging.getLogger(__name__)

_COMMIT = "gridcmd_after_commit"
_ROLLBACK = "gridcmd_after_rollback"
# session.info keys that only mean something within one transaction (cleared when it ends).
TX_PREFIX = "gridcmd_tx_"

Hook = Callable[[], Awaitable[None]]
_running: set[asyncio.Task[None]] = set()


def on_commit(session: AsyncSession, fn: Hook) -> None:
    session.info.setdefault(_COMMIT, []).append(fn)


def on_rollback(session: AsyncSession, fn: Hook) -> None:
    session.info.setdefault(_ROLLBACK, []).append(fn)


async def drain() -> None:
    """Wait for every hook already scheduled (tests, CLI commands and shutdown call this)."""
    while _running:
        await asyncio.gather(*list(_running), return_exceptions=True)


async def _run(fn: Hook) -> None:
    try:
        await fn()
    except Exception as exc:  # a lost confirm/undo is repaired by the sweeper's reconcile; never crash the caller
        if not OUTAGES.note(exc, where="after-commit hook"):
            log.exception("transaction hook failed")


def _spawn(fns: list[Hook]) -> None:
    if not fns:
        return
    loop = asyncio.get_running_loop()
    for fn in fns:
        task = loop.create_task(_run(fn))
        _running.add(task)
        task.add_done_callback(_running.discard)


def _end(info: dict[Any, Any], keep: str) -> list[Hook]:
    fns: list[Hook] = info.pop(keep, [])
    info.pop(_ROLLBACK if keep == _COMMIT else _COMMIT, None)
    for key in [k for k in info if isinstance(k, str) and k.startswith(TX_PREFIX)]:
        del info[key]
    return fns


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint released: the real commit is still to come
        return
    _spawn(_end(session.info, _COMMIT))


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    # The root transaction ended without a commit (after_commit already took the hooks if it committed):
    # rolled back, or the session closed without committing.
    if transaction.parent is None:
        _spawn(_end(session.info, _ROLLBACK))
