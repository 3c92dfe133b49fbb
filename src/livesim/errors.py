"""The API's error family: each carries a code, a message, details and an HTTP status."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error a client can act on, rendered as ``{error: {code, message, details}}``."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, details: Any = None,
                 status: int | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.details = details
        self.headers = headers or {}

    def to_body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            error["details"] = self.details
        return {"error": error}


class InvalidInput(ApiError):
    status = 400
    code = "invalid_input"


class Unauthorized(ApiError):
    status = 401
    code = "unauthorized"


class NotFound(ApiError):
    status = 404
    code = "not_found"


class Conflict(ApiError):
    status = 409
    code = "conflict"


class PayloadTooLarge(ApiError):
    status = 413
    code = "payload_too_large"


class CandleGaps(ApiError):
    status = 422
    code = "candle_gaps"


class TooManyRequests(ApiError):
    status = 429
    code = "too_many_requests"


class Unavailable(ApiError):
    """Something livesim depends on is away for now; the client should retry."""

    status = 503
    code = "unavailable"
    RETRY_AFTER_S = 2

    def __init__(self, message: str, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.headers.setdefault("Retry-After", str(self.RETRY_AFTER_S))
