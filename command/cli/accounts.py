"""`gridcmd end-sessions`, `disable-user`, `enable-user`, `set-password`: the account changes of
command.admin.account_admin from the command line, committed and then announced to every web process."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from command.admin import account_admin
from command.cli.spec import Arg, Command
from command.core.db import make_engine, make_sessionmaker
from command.core.models import User
from command.core.redis_client import make_redis
from command.core.settings import Settings

Change = Callable[[AsyncSession, int], Awaitable[User]]


def _run(settings: Settings, username: str, change: Change, done: str) -> int:
    async def run() -> int:
        engine = make_engine(settings, pool_size=1)
        redis = make_redis(settings)
        try:
            async with make_sessionmaker(engine)() as session:
                async with session.begin():
                    user = await change(session, (await account_admin.user_by_name(session, username)).id)
                changed = account_admin.take_changed(session)
            if not await account_admin.announce(redis, changed):
                print("warning: Redis unreachable; web processes see the change within GRIDCMD_ACCOUNT_CACHE_S")
            print(f"{user.username}: {done}")
        finally:
            await redis.aclose()
            await engine.dispose()
        return 0

    return asyncio.run(run())


def _end_sessions(args: argparse.Namespace, settings: Settings) -> int:
    return _run(settings, args.name, lambda s, uid: account_admin.end_sessions(s, user_id=uid),
                "every session ended")


def _disable(args: argparse.Namespace, settings: Settings) -> int:
    return _run(settings, args.name, lambda s, uid: account_admin.set_active(s, user_id=uid, active=False),
                "disabled, every session ended")


def _enable(args: argparse.Namespace, settings: Settings) -> int:
    return _run(settings, args.name, lambda s, uid: account_admin.set_active(s, user_id=uid, active=True), "enabled")


def _set_password(args: argparse.Namespace, settings: Settings) -> int:
    return _run(settings, args.name, lambda s, uid: account_admin.set_password(s, user_id=uid, password=args.password),
                "password set, every session ended")


_NAME = Arg("name")
# Account changes take effect on the user's tokens at once, in every web process (docs/security.md).
END_SESSIONS = Command("end-sessions", "end every session of a user (all its tokens, on every device)", _end_sessions,
                       (_NAME,))
DISABLE_USER = Command("disable-user", "disable a user: no login, every token refused at once", _disable, (_NAME,))
ENABLE_USER = Command("enable-user", "enable a disabled user (old tokens stay refused)", _enable, (_NAME,))
SET_PASSWORD = Command("set-password", "set a user's password (ends every session of the user)", _set_password,
                       (_NAME, Arg("--password", required=True)))
COMMANDS = (END_SESSIONS, DISABLE_USER, ENABLE_USER, SET_PASSWORD)
