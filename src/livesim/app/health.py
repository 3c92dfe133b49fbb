"""Liveness and readiness probes."""

from __future__ import annotations

from quart import Blueprint, Response, jsonify

from livesim.app import api
from livesim.app.state import app_state
from livesim.db.migrate import is_up_to_date
from livesim.errors import ApiError, Unavailable

blueprint = Blueprint("health", __name__)


@api.HEALTHZ.route(blueprint)
async def healthz() -> Response:
    # Alive = the background services run (an outage of the database is not death:
    # they ride it out; /readyz tells whether the database answers).
    if app_state().health.failed.is_set():
        raise Unavailable("the background services died; the process is exiting",
                          code="services_failed")
    return jsonify({"status": "ok"})


@api.READYZ.route(blueprint)
async def readyz() -> Response:
    # Ready = the database answers and every migration on disk is applied.
    try:
        up_to_date = await is_up_to_date(app_state().services.db)
    except ApiError as error:
        raise Unavailable("the database is unreachable", code="database_unavailable") from error
    if not up_to_date:
        raise Unavailable("migrations are not applied", code="migrations_pending")
    return jsonify({"status": "ready"})
