"""Schemathesis hooks for tests/web/test_schemathesis_*.py (loaded through SCHEMATHESIS_HOOKS).

The 12345 platform's work orders are signed (command.intake.channels.hotline_sign): without a signature every generated
order would stop at 401. With GRIDCMD_HOTLINE_SECRET set, four of five generated orders are sent as the platform would
sign them, so the parsing and intake behind the signature check are fuzzed too; the fifth keeps its generated headers
(the 401 paths).

The run's token is set here, not with `-H`: POST /api/v1/auth/logout ends the session of the token it is called
with, so that operation gets a token of a session of its own, minted for the same account with the installation's
key (GRIDCMD_SECRET_KEY), and the run's token stands to the end."""

from __future__ import annotations

import json
import os
import time
import zlib
from typing import Any

import schemathesis
from schemathesis.core import NotSet

from command.core.security import issue_token, verify_token
from command.core.settings import Settings
from command.intake.channels.hotline_sign import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

SIGNED_PATH = "/api/v1/hotline/12345/orders"
LOGOUT_PATH = "/api/v1/auth/logout"


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    _authorize(case)
    _spare_the_fuzzing_account(case)
    _sign_hotline_orders(case)


def _authorize(case: Any) -> None:
    token = os.environ.get("GRIDCMD_FUZZ_TOKEN")
    if not token:
        return
    if case.operation.path == LOGOUT_PATH:
        settings = Settings(secret_key=os.environ["GRIDCMD_SECRET_KEY"])
        token = issue_token(settings, verify_token(settings, token).principal)  # a new session, ended by the call
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}


def _spare_the_fuzzing_account(case: Any) -> None:
    """The admin operations on one account (/api/v1/admin/users/{user_id}…) never target the account the run
    fuzzes as: disabling, demoting or ending its sessions would revoke the run's token (tests/web/schemathesis_kit.py
    checks it still works at the end)."""
    own, spare = os.environ.get("GRIDCMD_FUZZ_SELF_ID"), os.environ.get("GRIDCMD_FUZZ_SPARE_ID")
    params = case.path_parameters
    if own and spare and isinstance(params, dict) and str(params.get("user_id")) == own:
        case.path_parameters = {**params, "user_id": int(spare)}


def _sign_hotline_orders(case: Any) -> None:
    secret = os.environ.get("GRIDCMD_HOTLINE_SECRET")
    if not secret or case.operation.path != SIGNED_PATH or case.method.upper() != "POST":
        return
    if isinstance(case.body, NotSet):
        raw = b""  # no body at all: signed as empty
    elif case.body is None or isinstance(case.body, bytes | bytearray):
        raw = bytes(case.body or b"")
    else:
        raw = json.dumps(case.body, ensure_ascii=False, allow_nan=True).encode("utf-8", "surrogatepass")
    if zlib.crc32(raw) % 5 == 0:
        return  # left unsigned: the refusals before any parsing
    if not isinstance(case.body, NotSet):
        case.body = raw  # sent as these bytes (schemathesis passes bytes through), so the signature matches
    ts = int(time.time())
    case.headers = {**(case.headers or {}), TIMESTAMP_HEADER: str(ts), SIGNATURE_HEADER: sign(secret, ts, raw)}
