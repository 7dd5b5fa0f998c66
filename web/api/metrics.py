"""GET /metrics for Prometheus: off (404) unless GRIDCMD_METRICS_TOKEN is set, then only with that bearer token
(Prometheus: `authorization: {credentials_file: …}`). Like /readyz it is for machines and outside the API
document. The database figures come from a per-process cache (command.ops.metrics_state), never per request."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request
from fastapi.responses import Response

from command.core.errors import NotAuthenticated, NotFound
from command.ops.metrics import CONTENT_TYPE, exposition
from command.ops.metrics_state import CachedState

router = APIRouter(tags=["ops"])


def _cache(request: Request) -> CachedState:
    state = request.app.state
    cache: CachedState | None = getattr(state, "metrics_cache", None)
    if cache is None:
        settings = state.settings
        cache = state.metrics_cache = CachedState(
            state.engine, state.redis, max_age_s=settings.metrics_cache_s, presence_ttl_s=settings.presence_ttl_s,
            timeout_s=settings.readiness_timeout_s)
    return cache


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    token = request.app.state.settings.metrics_token
    if not token:
        raise NotFound("metrics are off (set GRIDCMD_METRICS_TOKEN)")
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise NotAuthenticated("metrics need the bearer token of GRIDCMD_METRICS_TOKEN")
    state = await _cache(request).get()
    return Response(exposition(state), media_type=CONTENT_TYPE)
