"""Password hashing (argon2 via pwdlib) and signed bearer tokens (JWT, HS256 with the installation's key).

A token names the account and what it could do when it was issued (role, region, department, worker), the
account's token version then (`ver`: bumped by a password, role, scope or active change and by "end all
sessions"), its session (`sid`: kept by renewals, what logout revokes), its own id (`jti`) and the time of the
password login (`auth_time`: renewals stop session_max_s after it). The signature says the token is ours; whether
it still stands for the account is command.admin.accounts' question, asked on every request (docs/security.md)."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from functools import cache, lru_cache

import jwt
from pwdlib import PasswordHash

from command.core.errors import NotAuthenticated
from command.core.settings import Settings

_hasher = PasswordHash.recommended()
_ALGORITHM = "HS256"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    try:
        return _hasher.verify(password, password_hash)
    except Exception:  # a malformed stored hash is a failed login, not a crash
        return False


@cache
def dummy_hash() -> str:
    """An argon2 hash of nothing anyone knows: verified when there is no usable hash (unknown user, disabled or
    unusable account) so that such a login takes as long as a wrong password for a real one."""
    return hash_password(secrets.token_urlsafe(32))


def verify_or_waste(password: str, password_hash: str | None) -> bool:
    """verify_password, taking the same time whether or not there is a real argon2 hash to check against."""
    if password_hash is None or not password_hash.startswith("$argon2"):
        verify_password(password, dummy_hash())
        return False
    return verify_password(password, password_hash)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling, as carried in the token: enough to scope without a database round trip."""

    user_id: int
    username: str
    role: str
    region_code: str | None = None
    department_code: str | None = None
    worker_id: int | None = None
    version: int = 0  # the account's token version when the token was issued


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """A verified token: who, and which session it belongs to until when."""

    principal: Principal
    session_id: str
    token_id: str
    expires_at: float
    auth_time: float


def issue_token(settings: Settings, principal: Principal) -> str:
    """A token for a new session of `principal` (tests, the bench and tools mint them directly)."""
    return mint(settings, principal)[0]


def mint(settings: Settings, principal: Principal, *, session_id: str | None = None,
         auth_time: float | None = None, now: float | None = None) -> tuple[str, TokenClaims]:
    """A signed token and its claims. Without session_id: a new session (a password login); with it: a renewal,
    which never outlives the session (auth_time + session_max_s)."""
    now = time.time() if now is None else now
    auth_time = now if auth_time is None else auth_time
    expires = int(min(now + settings.token_ttl_s, auth_time + settings.session_max_s))
    claims = TokenClaims(principal=principal, session_id=session_id or secrets.token_urlsafe(12),
                         token_id=secrets.token_urlsafe(12), expires_at=float(expires), auth_time=float(int(auth_time)))
    body = {
        "sub": str(principal.user_id),
        "usr": principal.username,
        "role": principal.role,
        "reg": principal.region_code,
        "dep": principal.department_code,
        "wid": principal.worker_id,
        "ver": principal.version,
        "sid": claims.session_id,
        "jti": claims.token_id,
        "auth_time": int(claims.auth_time),
        "iat": int(now),
        "exp": expires,
    }
    return jwt.encode(body, settings.secret_key, algorithm=_ALGORITHM), claims


def read_token(settings: Settings, token: str) -> Principal:
    """The caller a valid, unexpired token names (NotAuthenticated otherwise). Says nothing about whether the
    account still allows it: see command.admin.accounts."""
    return verify_token(settings, token).principal


def verify_token(settings: Settings, token: str) -> TokenClaims:
    """The claims of a token signed with the installation's key and not expired (NotAuthenticated otherwise)."""
    claims = _verified(settings.secret_key, token)
    # PyJWT's own rule (no leeway), re-checked on every call: the cache outlives tokens.
    if claims.expires_at <= time.time():
        raise NotAuthenticated("invalid token: Signature has expired")
    return claims


@lru_cache(maxsize=8192)
def _verified(secret_key: str, token: str) -> TokenClaims:
    # Every request and socket of a session carries the same token: its signature is checked once per process
    # (the HMAC and claim parsing were a measurable share of a request). Keyed by the secret too, so a rotated
    # key verifies afresh; invalid tokens raise and lru_cache keeps nothing for them. Only the signature is
    # cached: expiry is checked on every call, and revocation, version and account state by command.admin.accounts.
    try:
        claims = jwt.decode(token, secret_key, algorithms=[_ALGORITHM],
                            options={"require": ["exp", "sub", "sid", "jti"]})
    except jwt.PyJWTError as exc:
        raise NotAuthenticated(f"invalid token: {exc}") from exc
    try:
        principal = Principal(
            user_id=int(claims["sub"]),
            username=str(claims["usr"]),
            role=str(claims["role"]),
            region_code=claims.get("reg"),
            department_code=claims.get("dep"),
            worker_id=claims.get("wid"),
            version=int(claims.get("ver", 0)),
        )
        return TokenClaims(principal=principal, session_id=str(claims["sid"]), token_id=str(claims["jti"]),
                           expires_at=float(claims["exp"]),
                           auth_time=float(claims.get("auth_time", claims.get("iat", 0))))
    except (KeyError, TypeError, ValueError) as exc:
        raise NotAuthenticated(f"invalid token: malformed claims ({exc!r})") from exc
