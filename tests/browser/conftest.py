"""Fixtures of tests/browser: the demo city, a served app and a browser (tests/browser_kit.py)."""

from tests.browser_kit import app, browser, demo_db

__all__ = ["app", "browser", "demo_db"]
