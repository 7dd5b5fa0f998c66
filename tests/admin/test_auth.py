from __future__ import annotations

import pytest

from command.admin.users import create_user
from tests.helpers import app_client


@pytest.fixture
async def admin(clean_db, settings):
    from command.core.db import make_sessionmaker

    async with make_sessionmaker(clean_db)() as s, s.begin():
        await create_user(s, username="boss", password="secret-pw", role="admin")


async def test_token_and_me(admin, settings, redis) -> None:
    async with app_client(settings) as client:
        r = await client.post("/api/v1/auth/token", data={"username": "boss", "password": "secret-pw"})
        assert r.status_code == 200, r.text
        token = r.json()["access_token"]
        me = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert me.json()["role"] == "admin"


async def test_wrong_password_is_401(admin, settings, redis) -> None:
    async with app_client(settings) as client:
        r = await client.post("/api/v1/auth/token", data={"username": "boss", "password": "nope-nope"})
        assert r.status_code == 401
        assert r.json()["error"]["code"] == "not_authenticated"


async def test_missing_and_forged_token_are_401(settings, redis) -> None:
    async with app_client(settings) as client:
        assert (await client.get("/api/v1/auth/me")).status_code == 401
        r = await client.get("/api/v1/auth/me", headers={"Authorization": "Bearer abc.def.ghi"})
        assert r.status_code == 401


async def test_oversize_body_is_413(settings, redis) -> None:
    async with app_client(settings) as client:
        r = await client.post("/api/v1/auth/token", content=b"x" * (settings.max_body_bytes + 1),
                              headers={"content-type": "application/x-www-form-urlencoded"})
        assert r.status_code == 413


async def test_password_is_hashed(admin, clean_db) -> None:
    from sqlalchemy import text

    async with clean_db.connect() as conn:
        stored = (await conn.execute(text("SELECT password_hash FROM users"))).scalar_one()
    assert stored.startswith("$argon2") and "secret-pw" not in stored


def test_unknown_role_refused() -> None:
    import asyncio

    from command.core.errors import InvalidInput

    with pytest.raises(InvalidInput):
        asyncio.run(create_user(None, username="x", password="123456", role="king"))  # type: ignore[arg-type]





def test_cached_token_still_expires(settings, monkeypatch) -> None:
    # Verified tokens are cached per process; expiry must still be enforced on every call.
    import time

    from command.core import security
    from command.core.errors import NotAuthenticated

    who = security.Principal(user_id=7, username="w7", role="worker", worker_id=7)
    token = security.issue_token(settings, who)
    assert security.read_token(settings, token) == who
    assert security.read_token(settings, token) == who  # from the cache
    later = time.time() + settings.token_ttl_s + 1
    monkeypatch.setattr(security.time, "time", lambda: later)
    with pytest.raises(NotAuthenticated, match="expired"):
        security.read_token(settings, token)


def test_token_signed_with_another_key_refused_even_when_cached(settings) -> None:
    from command.core import security
    from command.core.errors import NotAuthenticated

    who = security.Principal(user_id=1, username="admin", role="admin")
    token = security.issue_token(settings, who)
    assert security.read_token(settings, token) == who
    rotated = settings.model_copy(update={"secret_key": "rotated-key-rotated-key-rotated-key-0123"})
    with pytest.raises(NotAuthenticated):
        security.read_token(rotated, token)


def test_token_without_expiry_or_claims_refused(settings) -> None:
    import jwt

    from command.core import security
    from command.core.errors import NotAuthenticated

    no_exp = jwt.encode({"sub": "1", "usr": "a", "role": "admin"}, settings.secret_key, algorithm="HS256")
    no_role = jwt.encode({"sub": "1", "usr": "a", "exp": 2**40}, settings.secret_key, algorithm="HS256")
    for token in (no_exp, no_role):
        with pytest.raises(NotAuthenticated):
            security.read_token(settings, token)

