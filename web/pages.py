"""HTML pages: the login page and the wall display. Pages are shells; their data comes from the API
with the bearer token the login page keeps in the browser, so the pages themselves hold nothing private."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from web.i18n import catalogue, pick_lang

TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")
router = APIRouter(include_in_schema=False)


def content_security_policy(basemap_url: str) -> str:
    """Everything from this origin; a configured base map's origin for its tiles. Nothing else, ever."""
    extra = ""
    if basemap_url:
        parts = urlsplit(basemap_url.replace("{", "").replace("}", ""))
        extra = f" {parts.scheme}://{parts.netloc}"
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
    response.headers["Content-Security-Policy"] = content_security_policy(request.app.state.settings.basemap_url)
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


@router.get("/console", response_class=HTMLResponse)
async def console_page(request: Request) -> Response:
    return render(request, "console.html")
