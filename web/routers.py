"""Every router the app mounts, in one list."""

from __future__ import annotations

from web.api import auth
from web.api import locate as locate_api
from web.api import tiles as tiles_api

ROUTERS = [auth.router, locate_api.router, tiles_api.router]
