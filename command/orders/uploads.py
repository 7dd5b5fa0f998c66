"""Photo uploads: size limit, type by magic bytes (jpeg, png, webp — never the client's word), stored
under settings.upload_dir with a row in `uploads`; work orders refer to photos by upload id.

Who may use one: only its uploader attaches it (a resident's anonymous upload: only through the resident's own
request, the id being known to nobody else until then), to one incident; afterwards it is readable by its
uploader and by whoever sees that incident (command.orders.incidents.visible_incident). To anyone else an upload
"does not exist": the same answer as for an unknown id."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from command.core.errors import Forbidden, InvalidInput, NotFound, TooLarge
from command.core.models import Incident, Upload
from command.core.security import Principal
from command.orders.incidents import visible_incident

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


def _upload_ids(photos: Sequence[str | uuid.UUID]) -> list[uuid.UUID]:
    if len(photos) > MAX_PHOTOS:
        raise InvalidInput(f"at most {MAX_PHOTOS} photos")
    keys: list[uuid.UUID] = []
    for p in photos:
        try:
            keys.append(uuid.UUID(str(p)))
        except ValueError as exc:
            raise InvalidInput(f"not an upload id: {p!r}") from exc
    return list(dict.fromkeys(keys))


def _usable(uploaded_by: int | None, incident_id: int | None) -> list[ColumnElement[bool]]:
    """Uploads `uploaded_by` may attach to `incident_id`: their own, not attached to another incident."""
    return [Upload.uploaded_by.is_not_distinct_from(uploaded_by),
            Upload.incident_id.is_(None) if incident_id is None
            else (Upload.incident_id.is_(None) | (Upload.incident_id == incident_id))]


def _refuse(keys: Sequence[uuid.UUID], usable: set[uuid.UUID]) -> None:
    if missing := [str(k) for k in keys if k not in usable]:
        # Unknown, someone else's, or attached elsewhere: one answer for all three (nothing to probe).
        raise InvalidInput(f"unknown photo upload(s): {', '.join(missing)}",
                           details=[{"field": "photos", "reason": "not an upload of yours that is free to attach"}])


async def check_photos(session: AsyncSession, photos: Sequence[str | uuid.UUID], *,
                       uploaded_by: int | None, replay_key: str | None = None) -> list[str]:
    """The photo ids, each an upload of `uploaded_by` (None: a resident's) not yet attached (InvalidInput
    otherwise) — or attached to the incident stored with `replay_key` (command.intake.intake.stored_key), which a retry
    of the same report finds again. For a check before the incident exists; `attach_uploads` then attaches."""
    keys = _upload_ids(photos)
    if keys:
        free = _usable(uploaded_by, None)
        if replay_key is not None:
            replayed = select(Incident.id).where(Incident.idempotency_key == replay_key).scalar_subquery()
            free[-1] = free[-1] | (Upload.incident_id == replayed)
        _refuse(keys, set(await session.scalars(select(Upload.id).where(Upload.id.in_(keys), *free))))
    return [str(k) for k in keys]


async def attach_uploads(session: AsyncSession, *, photos: Sequence[str | uuid.UUID], uploaded_by: int | None,
                         incident_id: int) -> list[str]:
    """Attach the caller's photos to `incident_id` (in one statement: two requests cannot both take one) and
    return their ids; InvalidInput if any is not theirs to attach."""
    keys = _upload_ids(photos)
    if keys:
        taken = await session.scalars(update(Upload).where(Upload.id.in_(keys), *_usable(uploaded_by, incident_id))
                                      .values(incident_id=incident_id).returning(Upload.id)
                                      .execution_options(synchronize_session=False))
        _refuse(keys, set(taken))
    return [str(k) for k in keys]


async def readable_upload(session: AsyncSession, *, upload_id: str, principal: Principal) -> Upload:
    """The upload if `principal` uploaded it or sees the incident it is attached to; NotFound otherwise."""
    row = await get_upload(session, upload_id)
    if row.uploaded_by is not None and row.uploaded_by == principal.user_id:
        return row
    if row.incident_id is not None:
        try:
            await visible_incident(session, principal=principal, incident_id=row.incident_id)
            return row
        except (NotFound, Forbidden):
            pass
    raise NotFound(f"upload {upload_id!r} not found")
