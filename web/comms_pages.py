"""The command centre's communication pages, linked from the console's header: /contacts (the contact book,
sending notices and their read receipts) and /duty (the duty roster and shift handovers). Shells like every page:
their data comes from /api/v1/contacts, /api/v1/notices and /api/v1/duty with the browser's bearer token."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from web.pages import render

router = APIRouter(include_in_schema=False)


@router.get("/contacts", response_class=HTMLResponse)
async def contacts_page(request: Request) -> Response:
    return render(request, "contacts.html")


@router.get("/duty", response_class=HTMLResponse)
async def duty_page(request: Request) -> Response:
    return render(request, "duty.html")


@router.get("/petitions", response_class=HTMLResponse)
async def petitions_page(request: Request) -> Response:
    """The 信访 desk: petition staff's list and actions, a leader's own queue (web/static/petitions)."""
    return render(request, "petitions.html")


@router.get("/counter", response_class=HTMLResponse)
async def counter_page(request: Request) -> Response:
    """A service-centre desk (窗口/服务专柜): catalogue item, resident, 即办 or 承诺件 (web/static/counter)."""
    return render(request, "counter.html")


@router.get("/counter/receipt/{incident_id}", response_class=HTMLResponse)
async def counter_receipt_page(request: Request, incident_id: int) -> Response:
    """The printable receipt with the tracking QR code; its data from /api/v1/counter/receipts/{id}."""
    return render(request, "counter_receipt.html")
