"""The domain error hierarchy. The web layer maps each class to one HTTP status, in one table."""

from __future__ import annotations


class GridcmdError(Exception):
    """Base of every error the domain raises on purpose."""

    code = "error"

    def __init__(self, message: str, *, details: object | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidInput(GridcmdError):
    code = "invalid_input"


class NotFound(GridcmdError):
    code = "not_found"


class Conflict(GridcmdError):
    code = "conflict"


class IllegalTransition(Conflict):
    code = "illegal_transition"


class NotAuthenticated(GridcmdError):
    code = "not_authenticated"


class Forbidden(GridcmdError):
    code = "forbidden"


class TooLarge(GridcmdError):
    code = "too_large"


class RateLimited(GridcmdError):
    """Too many requests: try again after `retry_after_s` seconds (sent as Retry-After)."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after_s: int | None = None, details: object | None = None) -> None:
        super().__init__(message, details=details)
        self.retry_after_s = retry_after_s


class Unavailable(GridcmdError):
    """A dependency is momentarily unable to serve (e.g. the live dispatch state is being rebuilt): retry."""

    code = "unavailable"
