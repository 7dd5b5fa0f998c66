"""Read your own writes with a read replica (docs/replica.md): a browser that has just written reads from the
primary for as long as the replica may lag behind.

A request that may write (any method but GET, HEAD, OPTIONS) answered below 400 sets a short cookie naming, in the
server's clock, until when; `ReadSessionDep` sends a request carrying an unexpired one to the primary. A cookie,
not per-process state: the next read may reach another web process (or machine). A client that keeps no cookies
(a script with a token) is not held: it reads the replica within the lag bound. A forged cookie only sends its own
reads to the primary, as if there were no replica."""

from __future__ import annotations

import math
import time

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "gridcmd_wrote"
_READS = frozenset({"GET", "HEAD", "OPTIONS"})


class ReadYourWrites:
    def __init__(self, app: ASGIApp, *, hold_s: float) -> None:
        self.app = app
        self.hold_s = hold_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in _READS:
            await self.app(scope, receive, send)
            return

        async def marking_send(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] < 400:
                cookie = (f"{COOKIE}={time.time() + self.hold_s:.3f}; Max-Age={math.ceil(self.hold_s)}; Path=/; "
                          "HttpOnly; SameSite=Strict")
                message = {**message, "headers": [*message.get("headers", ()), (b"set-cookie", cookie.encode())]}
            await send(message)

        await self.app(scope, receive, marking_send)


def wrote_recently(request: Request) -> bool:
    """This caller wrote less than the hold ago (its cookie says so)."""
    try:
        return float(request.cookies.get(COOKIE, "0")) > time.time()
    except ValueError:
        return False
