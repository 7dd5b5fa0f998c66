"""Photo uploads: POST /api/v1/uploads (multipart `file`; size limit GRIDCMD_MAX_UPLOAD_BYTES, enforced
while streaming by web.middleware too; JPEG/PNG/WebP by magic bytes) → {id, url}; GET serves it back."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import FileResponse

from command.core.errors import NotFound
from command.orders.uploads import readable_upload, save_upload
from web.deps import CurrentUser, SessionDep, SettingsDep
from web.request_types import SafeLine

router = APIRouter(prefix="/api/v1/uploads", tags=["uploads"])


@router.post("", status_code=201)
async def upload(file: UploadFile, principal: CurrentUser,
                 session: SessionDep, settings: SettingsDep) -> dict:
    data = await file.read(settings.max_upload_bytes + 1)
    row = await save_upload(session, data=data, upload_dir=settings.upload_dir, max_bytes=settings.max_upload_bytes,
                            uploaded_by=principal.user_id)
    return {"id": str(row.id), "url": f"/api/v1/uploads/{row.id}", "content_type": row.content_type,
            "size": row.size}


@router.get("/{upload_id}", response_class=FileResponse,
            responses={200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}}})
async def download(upload_id: Annotated[SafeLine, PathParam(max_length=64)],
                   principal: CurrentUser,
                   session: SessionDep,
                   settings: SettingsDep) -> FileResponse:
    """The photo, for its uploader and for whoever sees the incident it is attached to (404 for anyone else)."""
    row = await readable_upload(session, upload_id=upload_id, principal=principal)
    path = Path(settings.upload_dir) / row.path
    if not path.is_file():
        raise NotFound(f"upload {upload_id} is missing from storage")
    return FileResponse(path, media_type=row.content_type)
