"""HTML pages: the login page and the wall display. Pages are shells; their data comes from the API
with the bearer token the login page keeps in the browser, so the pages themselves hold nothing private."""

from __future__ import annotations

from pathlib import Path

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from command.reports import basemaps
from web.i18n import catalogue, pick_lang

TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")
router = APIRouter(include_in_schema=False)


def content_security_policy(tile_origins: list[str]) -> str:
    """Everything from this origin; the configured base map's origins for its tiles. Nothing else, ever."""
    extra = "".join(f" {o}" for o in tile_origins)
    return ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            f"img-src 'self' data: blob:{extra}; connect-src 'self'{extra}; worker-src 'self' blob:; "
            "child-src blob:; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'self'")


def render(request: Request, template: str, **context: object) -> Response:
    lang = pick_lang(request.query_params.get("lang"), request.cookies.get("lang"))
    strings = catalogue(lang)
    response = TEMPLATES.TemplateResponse(request, template, {
        "lang": lang, "t": strings, "strings_json": orjson.dumps(strings).decode(),
        "other_lang": "en" if lang == "zh-CN" else "zh-CN",
        "timezone": request.app.state.settings.timezone,  # every page formats times in it (app/i18n.js)
        **context,
    })
    response.headers["Content-Security-Policy"] = content_security_policy(basemaps.origins(request.app.state.settings))
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    if request.query_params.get("lang") == lang:
        response.set_cookie("lang", lang, max_age=365 * 86400, samesite="lax")
    return response


@router.get("/", response_class=RedirectResponse)
async def home() -> RedirectResponse:
    return RedirectResponse("/screen", status_code=302)


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request) -> Response:
    return render(request, "login.html")


@router.get("/screen", response_class=HTMLResponse)
async def screen_page(request: Request) -> Response:
    return render(request, "screen.html")


@router.get("/admin", response_class=HTMLResponse)
async def admin_page(request: Request) -> Response:
    """The administrator's console (its data and every write: /api/v1/admin/...)."""
    return render(request, "admin.html")


@router.get("/console", response_class=HTMLResponse)
async def console_page(request: Request) -> Response:
    return render(request, "console.html")


@router.get("/supervise", response_class=HTMLResponse)
async def supervise_page(request: Request) -> Response:
    """督查考核: assessment, rankings, drill-down, hotspots (supervisor, admin; operators read within scope)."""
    return render(request, "supervise.html")
