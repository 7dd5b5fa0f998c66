"""HMAC-SHA256 signatures shared with the 12345 platform, both ways.

signature = hex(HMAC-SHA256(secret, f"{timestamp}." + body)), sent as `X-Signature` with the unix
time in `X-Timestamp`. A request outside the replay window is refused even with a good signature."""

from __future__ import annotations

import hashlib
import hmac

from command.core.errors import Forbidden, NotAuthenticated

TIMESTAMP_HEADER = "X-Timestamp"
SIGNATURE_HEADER = "X-Signature"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def verify(*, secret: str, window_s: int, timestamp: str | None, signature: str | None, body: bytes,
           now: float) -> None:
    """Raise unless the body was signed with the shared secret within the replay window."""
    if not secret:
        raise Forbidden("the 12345 platform link is not configured")
    if not timestamp or not signature:
        raise NotAuthenticated(f"missing {TIMESTAMP_HEADER} or {SIGNATURE_HEADER} header")
    try:
        ts = int(timestamp)
    except ValueError as exc:
        raise NotAuthenticated(f"{TIMESTAMP_HEADER} must be unix seconds") from exc
    if abs(now - ts) > window_s:
        raise NotAuthenticated(f"request timestamp outside the {window_s} s replay window")
    if not hmac.compare_digest(sign(secret, ts, body), signature.strip().lower()):
        raise NotAuthenticated("bad signature")
