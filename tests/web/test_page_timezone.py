"""Every page carries the configured time zone (settings.timezone) for app/i18n.js to format times in, so the
wall, the console, the department desk, the phones and the resident pages all agree (the browser's own zone
is not used; tests/browser/test_console_browser.py checks the formatting in Chromium)."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.environment import make_test_settings
from tests.helpers import app_client

PAGES = ["/login", "/screen", "/console", "/dept", "/m", "/r", f"/r/t/{uuid.uuid4()}", "/supervise"]


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Asia/Urumqi"])
async def test_every_page_names_the_configured_zone(engine: AsyncEngine, zone: str) -> None:
    async with app_client(make_test_settings(timezone=zone)) as client:
        for path in PAGES:
            r = await client.get(path)
            assert r.status_code == 200, (path, r.status_code)
            assert re.findall(r'<meta name="timezone" content="([^"]*)">', r.text) == [zone], path
