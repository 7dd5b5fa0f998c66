"""Password hashing (argon2 via pwdlib) and signed bearer tokens (JWT)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache

import jwt
from pwdlib import PasswordHash

from command.errors import NotAuthenticated
from command.settings import Settings

_hasher = PasswordHash.recommended()
_ALGORITHM = "HS256"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    try:
        return _hasher.verify(password, password_hash)
    except Exception:  # a malformed stored hash is a failed login, not a crash
        return False


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling, as carried in the token: enough to scope without a database round trip."""

    user_id: int
    username: str
    role: str
    region_code: str | None = None
    department_code: str | None = None
    worker_id: int | None = None


def issue_token(settings: Settings, principal: Principal) -> str:
    now = int(time.time())
    claims = {
        "sub": str(principal.user_id),
        "usr": principal.username,
        "role": principal.role,
        "reg": principal.region_code,
        "dep": principal.department_code,
        "wid": principal.worker_id,
        "iat": now,
        "exp": now + settings.token_ttl_s,
    }
    return jwt.encode(claims, settings.secret_key, algorithm=_ALGORITHM)


def read_token(settings: Settings, token: str) -> Principal:
    """The caller a valid, unexpired token names (NotAuthenticated otherwise)."""
    principal, expires = _verified(settings.secret_key, token)
    if expires <= time.time():  # PyJWT's own rule (no leeway), re-checked on every call: the cache outlives tokens
        raise NotAuthenticated("invalid token: Signature has expired")
    return principal


@lru_cache(maxsize=8192)
def _verified(secret_key: str, token: str) -> tuple[Principal, float]:
    # Every request and socket of a session carries the same token: its signature is checked once per process
    # (the HMAC and claim parsing were a measurable share of a request). Keyed by the secret too, so a rotated
    # key verifies afresh; invalid tokens raise and lru_cache keeps nothing for them.
    try:
        claims = jwt.decode(token, secret_key, algorithms=[_ALGORITHM], options={"require": ["exp"]})
    except jwt.PyJWTError as exc:
        raise NotAuthenticated(f"invalid token: {exc}") from exc
    try:
        principal = Principal(
            user_id=int(claims["sub"]),
            username=claims["usr"],
            role=claims["role"],
            region_code=claims.get("reg"),
            department_code=claims.get("dep"),
            worker_id=claims.get("wid"),
        )
        return principal, float(claims["exp"])
    except (KeyError, TypeError, ValueError) as exc:
        raise NotAuthenticated(f"invalid token: malformed claims ({exc!r})") from exc
