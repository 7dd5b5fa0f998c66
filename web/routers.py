"""Every router the app mounts, in one list."""

from __future__ import annotations

from web import field_pages, pages
from web.api import (
    alerts,
    auth,
    dept,
    hotline,
    incidents,
    loop,
    orders,
    patrol,
    screen_board,
    stats,
    supervision,
    track,
    uploads,
    workers,
)
from web.api import events as events_api
from web.api import field as field_api
from web.api import locate as locate_api
from web.api import public as public_api
from web.api import screen as screen_api
from web.api import tiles as tiles_api
from web.api import ws as ws_api

ROUTERS = [auth.router, alerts.router, incidents.router, orders.router, workers.router,
           locate_api.router, tiles_api.router, screen_api.router, pages.router,
           events_api.router, ws_api.router,
           # closed loop (issue 4)
           dept.router, supervision.router, loop.router, track.router, uploads.router, patrol.router,
           stats.router, hotline.router,
           # screens (issue 5)
           screen_board.router, field_pages.router, public_api.router, field_api.router]
