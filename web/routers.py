"""Every router the app mounts, in one list."""

from __future__ import annotations

from web import comms_pages, field_pages, pages, pages_ca
from web.api import (
    admin_accounts,
    admin_audit,
    admin_limits,
    admin_reference,
    admin_regions,
    admin_users,
    alerts,
    assessment,
    auth,
    cap,
    catalogue,
    counter,
    dept,
    devices,
    duty,
    health,
    hotline,
    hotline_platforms,
    hotspots,
    incidents,
    loop,
    metrics,
    notices,
    open311,
    open311_admin,
    orders,
    osmand,
    patrol,
    petitions,
    privacy,
    published_reports,
    screen_board,
    stats,
    supervision,
    track,
    uploads,
    worker_tracks,
    workers,
)
from web.api import events as events_api
from web.api import field as field_api
from web.api import locate as locate_api
from web.api import public as public_api
from web.api import screen as screen_api
from web.api import tiles as tiles_api
from web.api import ws as ws_api

# The GPS apps' position reports first: the busiest route by far, matched before the ~200 others (route matching
# was half of its CPU at the end of the list; docs/interop.md).
ROUTERS = [osmand.router, auth.router, alerts.router, incidents.router, orders.router, workers.router,
           locate_api.router, tiles_api.router, screen_api.router, pages.router,
           events_api.router, ws_api.router,
           # closed loop (issue 4)
           dept.router, supervision.router, loop.router, track.router, uploads.router, patrol.router,
           stats.router, hotline.router,
           # screens (issue 5)
           screen_board.router, field_pages.router, public_api.router, field_api.router,
           # identity and access, faults (issue 13)
           admin_users.router, health.router,
           # the admin console (issue 15)
           admin_audit.router, admin_accounts.router, admin_reference.router, admin_limits.router,
           admin_regions.router,
           # outside interfaces (issue 17)
           open311.router, open311_admin.router, hotline_platforms.router,
           devices.admin_router, devices.worker_router, cap.router, cap.admin_router,
           # supervision and assessment (issue 16)
           assessment.router, hotspots.router, worker_tracks.router, published_reports.router,
           # operations (issue 19)
           metrics.router, pages_ca.router, privacy.router,
           # command-centre communication (issue 15)
           notices.router, duty.router, comms_pages.router, catalogue.router,
           # petitions (issue 15 item 5)
           petitions.router,
           # counter intake (issue 15 item 4)
           counter.router]
