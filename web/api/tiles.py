"""GET /tiles/{layer}/{z}/{x}/{y}.pbf: Mapbox vector tiles built by PostGIS.

Tiles need a logged-in caller: the bearer token in the Authorization header (MapLibre adds it with
`transformRequest`), never in the URL, where it would end up in access logs and browser history. Responses are
private to the caller, cached briefly, and carry an ETag so a re-request of an unchanged tile costs a 304.

Low-zoom tiles (a wall display's province or city view: a few dozen tiles, each the same for every caller and
each costing milliseconds of PostGIS and Python) are also kept per process (app.state) for `SERVER_TTL_S`, the
same staleness the Cache-Control header already allows a browser after an import.

The `resources` layer follows the rule of GET /api/v1/screen/resources (command.reports.screen_board.resources_region):
operators, supervisors and admins only, and only the points inside their region."""

from __future__ import annotations

import hashlib
from functools import partial
from typing import Annotated

from cachetools import TTLCache
from fastapi import APIRouter, Path, Request, Response

from command.core.errors import NotFound
from command.reports.screen_board import resources_region
from geo.tiles import LAYERS, MAX_ZOOM, resources_tile
from web.deps import CurrentUser, ReadSessionDep
from web.request_types import INT32_MAX, SafeLine

router = APIRouter(tags=["geo"])

MVT = "application/vnd.mapbox-vector-tile"
CACHE = "private, max-age=60"
SERVER_TTL_S = 60
SERVER_MAX_ZOOM = 10  # z ≤ 10: at most ~2,000 tiles over a province; deeper tiles are many and rarely shared
SERVER_MAX_BYTES = 64 * 1024 * 1024


def _server_cache(request: Request) -> TTLCache[tuple[str, int, int, int, int | None], bytes]:
    cache = getattr(request.app.state, "tile_cache", None)
    if cache is None:
        cache = request.app.state.tile_cache = TTLCache(maxsize=SERVER_MAX_BYTES, ttl=SERVER_TTL_S, getsizeof=len)
    return cache


@router.get("/tiles/{layer}/{z}/{x}/{y}.pbf", response_class=Response,
            responses={200: {"content": {MVT: {}}}, 204: {"description": "empty tile"},
                       304: {"description": "not modified (If-None-Match)"}})
async def tile(request: Request, layer: Annotated[SafeLine, Path(max_length=32)],
               principal: CurrentUser, session: ReadSessionDep, z: Annotated[int, Path(ge=0, le=MAX_ZOOM)],
               x: Annotated[int, Path(ge=0, le=INT32_MAX)], y: Annotated[int, Path(ge=0, le=INT32_MAX)]) -> Response:
    build = LAYERS.get(layer)
    if build is None:
        raise NotFound(f"no tile layer {layer!r}; layers: {', '.join(LAYERS)}")
    within: int | None = None
    if build is resources_tile:
        watched = await resources_region(session, principal=principal, region=None)
        within = watched.id if watched is not None else None
        build = partial(resources_tile, within=within)
    key = (layer, z, x, y, within)
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
