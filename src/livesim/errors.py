"""The API's error family: each carries a code, a message, details and an HTTP status.

Every error renders as ``{error: {code, message, details: [{field, message}], ...}}``:
``details`` is always a list naming each input that is wrong and why, so a client can
show a message next to each field.  Data a client can act on beyond that (the gaps of a
market, the valid values, the id of the session a retry refers to) goes in ``context``
and is rendered beside ``code`` and ``message``, e.g. ``error.gaps``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypedDict


class Detail(TypedDict):
    """One problem of one input: ``{field, message}``."""

    field: str
    message: str


RESERVED = frozenset({"code", "message", "details"})


class ApiError(Exception):
    """An error a client can act on, rendered as ``{error: {code, message, details}}``.

    ``details`` lists field problems.  A mapping passed as ``details`` is taken as
    ``context`` (the form some callers outside ``app/`` still use), never rendered as
    the ``details`` field, so that field is a list in every answer.
    """

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None,
                 details: Sequence[Detail] | Mapping[str, Any] | None = None,
                 context: Mapping[str, Any] | None = None,
                 status: int | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        # Kept as given, so Python callers read what they passed; rendering normalises.
        self.details = details
        self.context: dict[str, Any] = {
            **(details if isinstance(details, Mapping) else {}), **(context or {})}
        assert not RESERVED & set(self.context), f"context keys {sorted(self.context)} clash"
        self.headers = headers or {}

    @property
    def field_details(self) -> list[Detail]:
        """The field problems: ``details`` when it is a list, else none."""
        if self.details is None or isinstance(self.details, Mapping):
            return []
        return list(self.details)

    def to_body(self) -> dict[str, Any]:
        """The JSON answer: ``{"error": {code, message, details, **context}}``."""
        error: dict[str, Any] = {**self.context, "code": self.code, "message": self.message,
                                 "details": self.field_details}
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
