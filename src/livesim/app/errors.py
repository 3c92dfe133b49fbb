"""One place that renders every error as ``{error: {code, message, details}}``."""

from __future__ import annotations

import logging

import trio
from quart import Response, jsonify, request
from quart_trio import QuartTrio
from werkzeug.exceptions import HTTPException

from livesim.errors import ApiError

LOGGER = logging.getLogger(__name__)
# Headers of werkzeug's own errors worth passing on (405's Allow, 401's WWW-Authenticate).
_PASSED_ON = ("Allow", "WWW-Authenticate", "Retry-After")
BODYLESS_METHODS = ("GET", "HEAD", "DELETE", "OPTIONS")
DRAIN_TIMEOUT_S = 1.0


def render(error: ApiError) -> Response:
    """The JSON response for ``error``, with its status and headers."""
    response = jsonify(error.to_body())
    response.status_code = error.status
    for name, value in error.headers.items():
        response.headers[name] = value
    return response


async def _drain_body() -> None:
    # An error answered before the body was read (a bad header, say): read what is left
    # of it first, within the body limit and briefly.  Otherwise a keep-alive client
    # that sends its next request at once can find hypercorn still waiting for the
    # unread body, and the next request is never answered (seen with pipelined bodies).
    if request.method in BODYLESS_METHODS:
        return
    with trio.move_on_after(DRAIN_TIMEOUT_S):
        try:
            await request.get_data(cache=False)
        except Exception:  # too large, or gone: the connection is closed instead
            LOGGER.debug("did not drain the body", exc_info=True)


def register_error_handlers(app: QuartTrio) -> None:
    @app.errorhandler(ApiError)
    async def api_error(error: ApiError) -> Response:
        await _drain_body()
        return render(error)

    @app.errorhandler(HTTPException)
    async def http_error(error: HTTPException) -> Response:
        # Quart's own 404/405/413... in our shape rather than HTML.
        code = (error.name or "error").lower().replace(" ", "_")
        headers = {name: value for name, value in error.get_headers()
                   if name in _PASSED_ON}
        if error.code != 413:  # a too-large body is not read
            await _drain_body()
        return render(ApiError(error.description or error.name or "error", code=code,
                               status=error.code or 500, headers=headers))

    @app.errorhandler(Exception)
    async def unexpected(error: Exception) -> Response:
        LOGGER.exception("unhandled error", exc_info=error)
        return render(ApiError("the server failed; the error was logged",
                               code="internal_error", status=500))
