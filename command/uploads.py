"""Photo uploads: size limit, type by magic bytes (jpeg, png, webp — never the client's word), stored
under settings.upload_dir with a row in `uploads`; work orders refer to photos by upload id."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from command.errors import InvalidInput, NotFound, TooLarge
from command.loop_models import Upload

MAX_PHOTOS = 12


def sniff(data: bytes) -> tuple[str, str] | None:
    """(content type, extension) from the first bytes, or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg", "jpg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png", "png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp", "webp"
    return None


async def save_upload(session: AsyncSession, *, data: bytes, upload_dir: str, max_bytes: int,
                      uploaded_by: int | None) -> Upload:
    if not data:
        raise InvalidInput("the uploaded file is empty")
    if len(data) > max_bytes:
        raise TooLarge(f"the uploaded file exceeds {max_bytes} bytes")
    kind = sniff(data)
    if kind is None:
        raise InvalidInput("only JPEG, PNG and WebP photos are accepted")
    content_type, ext = kind
    upload_id = uuid.uuid4()
    rel = Path(upload_id.hex[:2]) / f"{upload_id.hex}.{ext}"
    target = Path(upload_dir) / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    # Written before the row: a rolled-back transaction leaves an orphan file, never a row without its file.
    target.write_bytes(data)
    row = Upload(id=upload_id, content_type=content_type, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                 path=str(rel), uploaded_by=uploaded_by)
    session.add(row)
    await session.flush()
    return row


async def get_upload(session: AsyncSession, upload_id: str) -> Upload:
    try:
        key = uuid.UUID(upload_id)
    except ValueError as exc:
        raise NotFound(f"upload {upload_id!r} not found") from exc
    row = await session.get(Upload, key)
    if row is None:
        raise NotFound(f"upload {upload_id!r} not found")
    return row


async def check_photos(session: AsyncSession, photos: Sequence[str]) -> list[str]:
    """The photo ids, each an existing upload (InvalidInput otherwise)."""
    if len(photos) > MAX_PHOTOS:
        raise InvalidInput(f"at most {MAX_PHOTOS} photos")
    keys: list[uuid.UUID] = []
    for p in photos:
        try:
            keys.append(uuid.UUID(str(p)))
        except ValueError as exc:
            raise InvalidInput(f"not an upload id: {p!r}") from exc
    if keys:
        found = set(await session.scalars(select(Upload.id).where(Upload.id.in_(keys))))
        if missing := [str(k) for k in keys if k not in found]:
            raise InvalidInput(f"unknown photo upload(s): {', '.join(missing)}")
    return [str(k) for k in keys]
