"""GET /readyz: PostgreSQL and Redis reported separately, 200 when both answer, else 503 (for load balancers).
GET /healthz (web/app.py) is the liveness check: it touches neither."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from command.ops.readiness import readiness

router = APIRouter(tags=["health"])


@router.get("/readyz", include_in_schema=False)
async def readyz(request: Request) -> JSONResponse:
    state = request.app.state
    checks = await readiness(state.engine, state.redis, timeout_s=state.settings.readiness_timeout_s)
    ok = all(c.ok for c in checks.values())
    body = {"ok": ok, **{name: c.as_dict() for name, c in checks.items()}}
    return JSONResponse(body, status_code=200 if ok else 503, headers=None if ok else {"Retry-After": "1"})
