"""/api/v1/admin/regions: the Regions tab of /admin — check an uploaded region file (report feature by feature and
a map preview: added / changed / not in file), then apply the same file as one transaction. The rules are
`gridcmd import-regions`' (geo/region_files.py); the apply is audited."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, UploadFile
from redis.asyncio import Redis
from redis.exceptions import RedisError

from command.admin import audit, region_admin
from command.core.errors import InvalidInput
from dispatch import keys
from geo.imports import Progress
from geo.region_files import ReadOptions
from web.deps import Admin, RedisDep, SessionDep
from web.openapi_errors import errors
from web.request_types import SafeLine

router = APIRouter(prefix="/api/v1/admin/regions", tags=["admin"])

Option = Annotated[SafeLine | None, Form(max_length=100)]
ProgressId = Annotated[SafeLine | None, Form(pattern=r"^[A-Za-z0-9-]{8,64}$")]
PROGRESS_TTL_S = 600


async def _data(file: UploadFile) -> bytes:
    data = await file.read()
    if not data:
        raise InvalidInput("the file is empty")
    return data


@router.post("/check")
async def check(file: UploadFile, principal: Admin, session: SessionDep, layer: Option = None,
                encoding: Option = None, crs: Option = None) -> dict:
    """Everything but the write: the report (every problem, feature by feature) and, for a good file, the preview."""
    preview = await region_admin.check_upload(session, principal, data=await _data(file),
                                              filename=file.filename or "", options=ReadOptions(
                                                  layer=layer, encoding=encoding, crs=crs))
    return {"sha256": preview.sha256, "report": preview.report,
            "preview": {"type": "FeatureCollection", "features": preview.features},
            "not_in_file": preview.not_in_file}


def _reporter(redis: Redis, progress_id: str | None) -> Progress | None:
    """Progress of the write for the page to poll (any web process answers it: it is in Redis). A Redis failure
    costs the bar, never the import."""
    if progress_id is None:
        return None

    async def report(done: int, total: int) -> None:
        try:
            await redis.set(keys.admin_progress(progress_id), f"{done}/{total}", ex=PROGRESS_TTL_S)
        except RedisError:
            pass

    return report


@router.post("/apply", responses=errors(409))
async def apply(file: UploadFile, principal: Admin, session: SessionDep, redis: RedisDep,
                sha256: Annotated[SafeLine, Form(pattern=r"^[0-9a-fA-F]{64}$")], layer: Option = None,
                encoding: Option = None, crs: Option = None, progress_id: ProgressId = None) -> dict:
    """Import the checked file (its SHA-256 from the check) as one transaction; any problem: 422, nothing written.
    With `progress_id`, GET /progress/{progress_id} says how far the write has got."""
    done = await region_admin.apply_upload(session, principal, data=await _data(file), filename=file.filename or "",
                                           options=ReadOptions(layer=layer, encoding=encoding, crs=crs),
                                           expect_sha256=sha256, on_progress=_reporter(redis, progress_id))
    await audit.record(session, principal=principal, action="import", entity="regions", entity_id=sha256[:16],
                       after={"file": file.filename, **done},
                       region_code=principal.region_code if principal.region_code else None)
    return done


@router.get("/progress/{progress_id}")
async def progress(progress_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9-]{8,64}$")], _: Admin,
                   redis: RedisDep) -> dict:
    """How far an apply has got: regions written and in all (0/0 before it starts writing or when unknown)."""
    value = await redis.get(keys.admin_progress(progress_id))
    text = value.decode() if isinstance(value, bytes) else (value or "0/0")
    done, _, total = text.partition("/")
    return {"done": int(done or 0), "total": int(total or 0)}
