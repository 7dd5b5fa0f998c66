"""Password hashing (argon2 via pwdlib) and signed bearer tokens (JWT)."""

from __future__ import annotations

import time
from dataclasses import dataclass

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
    try:
        claims = jwt.decode(token, settings.secret_key, algorithms=[_ALGORITHM])
    except jwt.PyJWTError as exc:
        raise NotAuthenticated(f"invalid token: {exc}") from exc
    return Principal(
        user_id=int(claims["sub"]),
        username=claims["usr"],
        role=claims["role"],
        region_code=claims.get("reg"),
        department_code=claims.get("dep"),
        worker_id=claims.get("wid"),
    )
