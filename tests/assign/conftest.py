"""Fixtures of tests/assign: dispatch world (a small city with workers, the dispatch settings) and the demo city."""

from tests.demo_fixtures import demo_db
from tests.dispatch_world import dsettings_fixture, world_fixture

__all__ = ["demo_db", "dsettings_fixture", "world_fixture"]
