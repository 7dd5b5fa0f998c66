"""Photo uploads: POST /api/v1/uploads (multipart `file`; size limit GRIDCMD_MAX_UPLOAD_BYTES, enforced
while streaming by web.middleware too; JPEG/PNG/WebP by magic bytes) → {id, url}; GET serves it back."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, UploadFile
from fastapi.responses import FileResponse
from sqlalchemy.ext.asyncio import AsyncSession

from command.errors import NotFound
from command.security import Principal
from command.settings import Settings
from command.uploads import get_upload, save_upload
from web.deps import current_principal, get_session, get_settings

router = APIRouter(prefix="/api/v1/uploads", tags=["uploads"])


@router.post("", status_code=201)
async def upload(file: UploadFile, principal: Principal = Depends(current_principal),
                 session: AsyncSession = Depends(get_session), settings: Settings = Depends(get_settings)) -> dict:
    data = await file.read(settings.max_upload_bytes + 1)
    row = await save_upload(session, data=data, upload_dir=settings.upload_dir, max_bytes=settings.max_upload_bytes,
                            uploaded_by=principal.user_id)
    return {"id": str(row.id), "url": f"/api/v1/uploads/{row.id}", "content_type": row.content_type,
            "size": row.size}


@router.get("/{upload_id}")
async def download(upload_id: str, _: Principal = Depends(current_principal),
                   session: AsyncSession = Depends(get_session),
                   settings: Settings = Depends(get_settings)) -> FileResponse:
    row = await get_upload(session, upload_id)
    path = Path(settings.upload_dir) / row.path
    if not path.is_file():
        raise NotFound(f"upload {upload_id} is missing from storage")
    return FileResponse(path, media_type=row.content_type)
