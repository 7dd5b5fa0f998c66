"""No usable default key: a server without GRIDCMD_SECRET_KEY generates one once (a key file every process shares,
mode 0600, created atomically); a published or short key is refused at start; tokens signed with any other key,
`alg: none` or expired are 401 (real server processes, real PostgreSQL/Redis)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import jwt
import pytest
from pydantic import ValidationError

from command.admin.users import create_user
from command.core.security import Principal, issue_token
from command.core.settings import Settings
from command.core.signing_key import PUBLISHED_KEYS, UnsafeKey, check_key, installation_key
from tests.environment import make_test_settings
from tests.procs import ROOT, free_port, kernel_ports, log_tail, start_server, stop, wait_ready

OLD_DEFAULT = "dev-insecure-key-change-me-in-production-0123456789"


def _env_without_key(settings: Settings, key_file: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "GRIDCMD_SECRET_KEY"}
    env.update({"DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url,
                "GRIDCMD_SECRET_KEY_FILE": str(key_file), **extra})
    return env


def test_published_and_short_keys_are_refused() -> None:
    assert OLD_DEFAULT in PUBLISHED_KEYS
    for key in PUBLISHED_KEYS:
        with pytest.raises(UnsafeKey, match="published"):
            check_key(key, source="GRIDCMD_SECRET_KEY")
    with pytest.raises(UnsafeKey, match="at least 32"):
        check_key("x" * 31, source="GRIDCMD_SECRET_KEY")
    assert check_key("k" * 32, source="GRIDCMD_SECRET_KEY") == "k" * 32
    with pytest.raises(ValidationError, match="published"):
        make_test_settings(secret_key=OLD_DEFAULT)
    with pytest.raises(ValidationError, match="at least 32"):
        make_test_settings(secret_key="short-key")


def test_unset_key_is_generated_once_into_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / "var" / "secret_key"
    first = Settings(secret_key="", secret_key_file=str(path)).secret_key
    assert len(first) >= 32 and first not in PUBLISHED_KEYS
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Settings(secret_key="", secret_key_file=str(path)).secret_key == first  # read, not regenerated
    assert [p.name for p in path.parent.iterdir()] == ["secret_key"]  # no temporary file left behind


def test_a_key_file_others_can_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "secret_key"
    installation_key(path)
    path.chmod(0o644)
    with pytest.raises(UnsafeKey, match="chmod 600"):
        installation_key(path)
    path.chmod(0o600)
    path.write_text(OLD_DEFAULT)  # someone pasted the old example into the file
    with pytest.raises(UnsafeKey, match="published"):
        installation_key(path)


def test_processes_starting_together_end_with_the_same_key(tmp_path: Path) -> None:
    path = tmp_path / "shared" / "secret_key"
    code = ("import sys; from command.core.signing_key import installation_key; "
            "sys.stdout.write(installation_key(sys.argv[1]))")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(path)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
             for _ in range(12)]
    keys = {p.communicate(timeout=60)[0] for p in procs}
    assert all(p.returncode == 0 for p in procs)
    assert len(keys) == 1 and keys == {path.read_text().strip()}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["secret_key"]


async def test_a_server_without_a_key_generates_one_every_process_shares(migrated, clean_db, redis,
                                                                         tmp_path: Path) -> None:
    from command.core.db import make_sessionmaker

    async with make_sessionmaker(clean_db)() as s, s.begin():
        await create_user(s, username="boss", password="secret-pw", role="admin")
    key_file = tmp_path / "var" / "secret_key"
    env = _env_without_key(migrated, key_file, GRIDCMD_DISPATCH_BACKGROUND="false")
    a, b = kernel_ports(2)
    procs = [start_server(port, env) for port in (a, b)]  # started together: one key file between them
    try:
        for port, proc in zip((a, b), procs, strict=True):
            wait_ready(port, proc=proc)
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        key = key_file.read_text().strip()
        assert len(key) >= 32
        async with httpx.AsyncClient() as http:
            r = await http.post(f"http://127.0.0.1:{a}/api/v1/auth/token",
                                data={"username": "boss", "password": "secret-pw"})
            assert r.status_code == 200, r.text
            token = r.json()["access_token"]
            assert jwt.decode(token, key, algorithms=["HS256"])["usr"] == "boss"  # signed with the file's key
            me = await http.get(f"http://127.0.0.1:{b}/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
            assert me.status_code == 200, me.text  # the other process verifies it: the same key
            user_id = me.json()["user_id"]
            forged = {
                "old default key": issue_token(make_test_settings().model_copy(update={"secret_key": OLD_DEFAULT}),
                                               Principal(user_id=user_id, username="boss", role="admin")),
                "alg none": jwt.encode({"sub": str(user_id), "usr": "boss", "role": "admin", "sid": "s", "jti": "j",
                                        "exp": int(time.time()) + 600}, None, algorithm="none"),
                "expired": issue_token(Settings(secret_key=key, token_ttl_s=-5),
                                       Principal(user_id=user_id, username="boss", role="admin")),
            }
            for what, bad in forged.items():
                for port in (a, b):
                    r = await http.get(f"http://127.0.0.1:{port}/api/v1/auth/me",
                                       headers={"Authorization": f"Bearer {bad}"})
                    assert r.status_code == 401, (what, r.text)
                    assert r.json()["error"]["code"] == "not_authenticated", what
    finally:
        for proc in procs:
            stop(proc)


@pytest.mark.parametrize("key", [OLD_DEFAULT, "short-but-set"])
def test_a_server_with_an_unsafe_key_refuses_to_start(migrated, key: str, tmp_path: Path) -> None:
    port = free_port()
    env = _env_without_key(migrated, tmp_path / "secret_key", GRIDCMD_SECRET_KEY=key)
    proc = start_server(port, env)
    try:
        assert proc.wait(30) != 0  # it exits by itself: never served a request
        log = log_tail(proc)
        assert "refusing to start" in log and "GRIDCMD_SECRET_KEY" in log, log
        assert not (tmp_path / "secret_key").exists()
    finally:
        stop(proc)


def test_gridcmd_commands_refuse_an_unsafe_key_with_a_plain_message(migrated, tmp_path: Path) -> None:
    env = _env_without_key(migrated, tmp_path / "secret_key", GRIDCMD_SECRET_KEY=OLD_DEFAULT)
    done = subprocess.run([sys.executable, "-m", "command.cli", "serve", "--port", str(free_port())], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "published with gridcmd" in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_neither_the_readme_nor_compose_ships_a_usable_key() -> None:
    import yaml

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    compose_text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    for key in PUBLISHED_KEYS:
        assert key not in readme and key not in compose_text
    app = yaml.safe_load(compose_text)["services"]["app"]
    assert app["environment"]["GRIDCMD_SECRET_KEY"] == "${GRIDCMD_SECRET_KEY:-}"  # empty → generated, no fallback
    assert "appvar:/app/var" in app["volumes"]  # where the generated key is kept across rebuilds
