"""Fixtures of tests/intake: dispatch world (a small city with workers, the dispatch settings)."""

from tests.dispatch_world import dsettings_fixture, world_fixture

__all__ = ["dsettings_fixture", "world_fixture"]
