"""The installation's signing key: given (GRIDCMD_SECRET_KEY) and checked, or generated once into a key file.

Every process of one installation must sign and verify with the same key. When none is given, the first process
to start writes a random one to `secret_key_file` (mode 0600) and every later or concurrent process reads it:
the file is written under a temporary name and hard-linked into place, and a link never replaces an existing
file, so two processes starting together end with the one key that won (docs/security.md)."""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

MIN_KEY_BYTES = 32
# Keys that were printed in this project's README or docker-compose.yml: anyone can read them, so anyone could
# mint an admin token or a resident's tracking token with them.
PUBLISHED_KEYS = frozenset({
    "dev-insecure-key-change-me-in-production-0123456789",
    "change-me-before-anything-real-0123456789abcdef",
})


class UnsafeKey(ValueError):
    """The configured key (or key file) cannot be used; the message says what to do."""


def check_key(key: str, *, source: str) -> str:
    """`key` when it is fit to sign tokens; UnsafeKey otherwise."""
    if key in PUBLISHED_KEYS:
        raise UnsafeKey(f"{source} is the example key published with gridcmd: anyone could sign tokens with it. "
                        "Unset GRIDCMD_SECRET_KEY to have a random key generated, or set your own "
                        f"(at least {MIN_KEY_BYTES} bytes, e.g. `python -c \"import secrets; "
                        "print(secrets.token_urlsafe(48))\"`).")
    if len(key.encode()) < MIN_KEY_BYTES:
        raise UnsafeKey(f"{source} is {len(key.encode())} bytes long; a signing key needs at least {MIN_KEY_BYTES} "
                        "(unset GRIDCMD_SECRET_KEY to have one generated).")
    return key


def installation_key(path: str | os.PathLike[str]) -> str:
    """The key kept in `path`, created (random, mode 0600, atomically) when there is none yet."""
    target = Path(path)
    if not target.exists():
        _create(target)
    return _read(target)


def _create(target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temp = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(secrets.token_urlsafe(48) + "\n")
            f.flush()
            os.fsync(f.fileno())
        # link() fails when the name exists: whoever linked first wrote the key everyone uses.
        with contextlib.suppress(FileExistsError):
            os.link(temp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)


def _read(target: Path) -> str:
    mode = target.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise UnsafeKey(f"the key file {target} can be read by other users (mode {stat.filemode(mode)}): "
                        f"`chmod 600 {target}`, or delete it to have a new key generated (signs everyone out).")
    return check_key(target.read_text(encoding="ascii").strip(), source=f"the key file {target}")
