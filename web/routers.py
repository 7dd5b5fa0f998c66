"""Every router the app mounts, in one list."""

from __future__ import annotations

from web.api import auth

ROUTERS = [auth.router]
