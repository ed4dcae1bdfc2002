"""Business errors every app raises; the API, console and CSV import turn them into clear messages."""
from typing import Any


class DomainError(Exception):
    """A refusal the user can act on. `code` is the contract's snake_case error code."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details or {}


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class Conflict(DomainError):
    """The state of the world does not allow it now (wrong order status, no stock, a concurrent change)."""

    status = 409
    code = "conflict"


class Invalid(DomainError):
    """The input itself is wrong: an address, a coupon, a delivery area."""

    status = 422
    code = "invalid"


class Unauthorized(DomainError):
    """Missing or bad credentials: a token, or a callback signature."""

    status = 401
    code = "unauthorized"
