"""GET /tiles/{layer}/{z}/{x}/{y}.pbf: Mapbox vector tiles built by PostGIS.

Tiles need a logged-in caller: the bearer token in the Authorization header (MapLibre adds it with
`transformRequest`), never in the URL, where it would end up in access logs and browser history. Responses are
private to the caller, cached briefly, and carry an ETag so a re-request of an unchanged tile costs a 304.

Low-zoom tiles (a wall display's province or city view: a few dozen tiles, each the same for every caller and
each costing milliseconds of PostGIS and Python) are also kept per process (app.state) for `SERVER_TTL_S`, the
same staleness the Cache-Control header already allows a browser after an import."""

from __future__ import annotations

import hashlib

from cachetools import TTLCache
from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from command.errors import NotFound
from command.security import Principal
from geo.tiles import LAYERS
from web.deps import current_principal, get_session

router = APIRouter(tags=["geo"])

MVT = "application/vnd.mapbox-vector-tile"
CACHE = "private, max-age=60"
SERVER_TTL_S = 60
SERVER_MAX_ZOOM = 10  # z ≤ 10: at most ~2,000 tiles over a province; deeper tiles are many and rarely shared
SERVER_MAX_BYTES = 64 * 1024 * 1024


def _server_cache(request: Request) -> TTLCache[tuple[str, int, int, int], bytes]:
    cache = getattr(request.app.state, "tile_cache", None)
    if cache is None:
        cache = request.app.state.tile_cache = TTLCache(maxsize=SERVER_MAX_BYTES, ttl=SERVER_TTL_S, getsizeof=len)
    return cache


@router.get("/tiles/{layer}/{z}/{x}/{y}.pbf", response_class=Response,
            responses={200: {"content": {MVT: {}}}, 204: {"description": "empty tile"}})
async def tile(
    layer: str, z: int, x: int, y: int, request: Request,
    principal: Principal = Depends(current_principal),
    session: AsyncSession = Depends(get_session),
) -> Response:
    build = LAYERS.get(layer)
    if build is None:
        raise NotFound(f"no tile layer {layer!r}; layers: {', '.join(LAYERS)}")
    key = (layer, z, x, y)
    cache = _server_cache(request) if z <= SERVER_MAX_ZOOM else None
    body = cache.get(key) if cache is not None else None
    if body is None:
        body = await build(session, z=z, x=x, y=y)  # bad z/x/y raise here, before anything is cached
        if cache is not None:
            cache[key] = body
    headers = {"Cache-Control": CACHE, "Vary": "Authorization"}
    if not body:
        return Response(status_code=204, headers=headers)
    etag = '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'
    headers["ETag"] = etag
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(content=body, media_type=MVT, headers=headers)
