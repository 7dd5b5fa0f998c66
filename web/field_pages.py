"""The field and public pages: the worker app /m (an installable PWA: manifest, service worker), the liaison
console /dept, and the resident pages /r (file a request) and /r/t/{public_id}?k=… (track and rate).

Pages are shells (web.pages.render: catalogue, CSP); their data comes from the API."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from command.reports import basemaps
from web.i18n import catalogue, pick_lang
from web.pages import render

router = APIRouter(include_in_schema=False)
STATIC = Path(__file__).resolve().parent / "static"

# What the worker app's service worker keeps for offline start (the page itself: network first, then cache).
SHELL = ["/static/app/base.css", "/static/app/auth.js", "/static/app/i18n.js", "/static/app/dom.js",
         "/static/app/api.js", "/static/app/socket.js", "/static/app/countdown.js", "/static/app/photos.js",
         "/static/app/catalog.js", "/static/app/reasons.js", "/static/app/outbox.js", "/static/app/idb.js",
         "/static/app/alarm.js", "/static/app/toast.js", "/static/app/netbadge.js", "/static/app/incident.js",
         "/static/app/notices.js",
         "/static/vendor/gcoord/gcoord.esm-browser.prod.js"]
SHELL_DIRS = ["m"]


@cache
def _shell() -> tuple[list[str], str]:
    """The shell's URLs and a version hashed from their bytes: a new deploy changes it, so phones refresh."""
    urls = list(SHELL)
    for folder in SHELL_DIRS:
        for path in sorted((STATIC / folder).rglob("*")):
            if path.is_file() and path.name != "sw.js":
                urls.append("/static/" + path.relative_to(STATIC).as_posix())
    digest = hashlib.sha256()
    for url in urls:
        file = STATIC / url.removeprefix("/static/")
        digest.update(url.encode() + (file.read_bytes() if file.is_file() else b""))
    return urls, digest.hexdigest()[:16]


@router.get("/m", response_class=HTMLResponse)
async def worker_app(request: Request) -> Response:
    return render(request, "m.html")


@router.get("/m/manifest.webmanifest")
async def manifest(request: Request) -> Response:
    t = catalogue(pick_lang(request.query_params.get("lang"), request.cookies.get("lang")))
    body = {
        "name": t["m.app_name"], "short_name": t["m.short_name"], "start_url": "/m", "scope": "/m",
        "display": "standalone", "orientation": "portrait", "background_color": "#0b1524", "theme_color": "#0b1524",
        "icons": [{"src": "/static/m/icons/icon-192.png", "sizes": "192x192", "type": "image/png"},
                  {"src": "/static/m/icons/icon-512.png", "sizes": "512x512", "type": "image/png"},
                  {"src": "/static/m/icons/icon-512.png", "sizes": "512x512", "type": "image/png",
                   "purpose": "maskable"},
                  {"src": "/static/m/icons/icon.svg", "sizes": "any", "type": "image/svg+xml"}],
    }
    return Response(orjson.dumps(body), media_type="application/manifest+json")


@router.get("/m/sw.js")
async def service_worker() -> Response:
    urls, version = _shell()
    source = (STATIC / "m" / "sw.js").read_text(encoding="utf-8")
    source = source.replace("__VERSION__", version).replace('"__SHELL__"', orjson.dumps(urls).decode())
    # Served from /m/ but controlling /m itself (the page has no trailing slash).
    return Response(source, media_type="text/javascript",
                    headers={"Service-Worker-Allowed": "/m", "Cache-Control": "no-cache"})


@router.get("/dept", response_class=HTMLResponse)
async def liaison_console(request: Request) -> Response:
    return render(request, "dept.html")


@router.get("/r", response_class=HTMLResponse)
async def resident_form(request: Request) -> Response:
    settings = request.app.state.settings
    return render(request, "r.html", basemap_url=basemaps.first_tiles(settings),
                  basemap_crs=basemaps.crs(settings))


@router.get("/r/t/{public_id}", response_class=HTMLResponse)
async def resident_tracking(request: Request, public_id: str) -> Response:
    # The page only carries the id; the token stays in the URL fragment (never sent) and the page's script sends it
    # to /api/v1/track in a header.
    return render(request, "track.html", public_id=public_id)
