"""One place that renders every error as ``{error: {code, message, details}}``."""

from __future__ import annotations

import logging

from quart import Response, jsonify
from quart_trio import QuartTrio
from werkzeug.exceptions import HTTPException

from livesim.errors import ApiError

LOGGER = logging.getLogger(__name__)


def _render(status: int, code: str, message: str, details: object = None,
            headers: dict[str, str] | None = None) -> Response:
    error: dict[str, object] = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    response = jsonify({"error": error})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def register_error_handlers(app: QuartTrio) -> None:
    @app.errorhandler(ApiError)
    async def api_error(error: ApiError) -> Response:
        return _render(error.status, error.code, error.message, error.details, error.headers)

    @app.errorhandler(HTTPException)
    async def http_error(error: HTTPException) -> Response:
        # Quart's own 404/405/413... in our shape rather than HTML.
        status = error.code or 500
        code = (error.name or "error").lower().replace(" ", "_")
        return _render(status, code, error.description or error.name or "error")

    @app.errorhandler(Exception)
    async def unexpected(error: Exception) -> Response:
        LOGGER.exception("unhandled error", exc_info=error)
        return _render(500, "internal_error", "the server failed; the error was logged")
