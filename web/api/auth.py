"""POST /api/v1/auth/token: OAuth2 password form → bearer token."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from command.security import Principal, issue_token
from command.settings import Settings
from command.users import authenticate
from web.deps import current_principal, get_session, get_settings

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    role: str
    username: str
    region_code: str | None
    department_code: str | None
    worker_id: int | None


@router.post("/token")
async def token(
    form: OAuth2PasswordRequestForm = Depends(),
    session: AsyncSession = Depends(get_session),
    settings: Settings = Depends(get_settings),
) -> TokenOut:
    principal = await authenticate(session, username=form.username, password=form.password)
    return TokenOut(
        access_token=issue_token(settings, principal),
        role=principal.role,
        username=principal.username,
        region_code=principal.region_code,
        department_code=principal.department_code,
        worker_id=principal.worker_id,
    )


@router.get("/me")
async def me(principal: Principal = Depends(current_principal)) -> dict:
    return {
        "user_id": principal.user_id,
        "username": principal.username,
        "role": principal.role,
        "region_code": principal.region_code,
        "department_code": principal.department_code,
        "worker_id": principal.worker_id,
    }
