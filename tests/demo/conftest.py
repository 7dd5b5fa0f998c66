"""Fixtures of tests/demo: the demo city."""

from tests.demo_fixtures import demo_db

__all__ = ["demo_db"]
