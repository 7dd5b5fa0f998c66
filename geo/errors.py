"""Errors geo raises; the web layer maps them to 422 like command's InvalidInput."""

from __future__ import annotations


class GeoInputError(ValueError):
    """Bad geographic input: coordinates, geometry, a region file. `details` lists per-item reasons."""

    def __init__(self, message: str, *, details: object | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
