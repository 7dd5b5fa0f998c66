"""/ca: where a phone gets the local CA certificate (command.ops.ca), with install steps for Android, iOS and
HarmonyOS, in Chinese or English. Public on purpose: a certificate is not a secret, and a phone needs it before
it can reach anything over HTTPS. The fingerprint lets the worker compare it with the administrator's."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from command.core.errors import NotFound
from command.ops.ca import ca_certificate, fingerprint
from web.pages import render

router = APIRouter(include_in_schema=False)
PLATFORMS = ("android", "ios", "harmony")


@router.get("/ca", response_class=HTMLResponse)
async def ca_page(request: Request) -> Response:
    pem = ca_certificate(request.app.state.settings.ca_dir)
    return render(request, "ca.html", fingerprint=fingerprint(pem) if pem else None, platforms=PLATFORMS)


@router.get("/ca/gridcmd-ca.crt")
async def ca_download(request: Request) -> Response:
    pem = ca_certificate(request.app.state.settings.ca_dir)
    if pem is None:
        raise NotFound("no CA yet: run `gridcmd ca init`")
    # x-x509-ca-cert: Android, HarmonyOS and iOS Safari all offer to install a CA from this type.
    return Response(pem, media_type="application/x-x509-ca-cert",
                    headers={"Content-Disposition": 'attachment; filename="gridcmd-ca.crt"',
                             "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"})
