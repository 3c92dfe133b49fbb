"""Liveness and readiness probes."""

from __future__ import annotations

from quart import Blueprint, Response, current_app, jsonify

from livesim.app.context import services
from livesim.app.services import HEALTH, ServiceHealth
from livesim.db.migrate import is_up_to_date
from livesim.errors import ApiError, Unavailable

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
async def healthz() -> Response:
    # Alive = the background services run (an outage of the database is not death:
    # they ride it out; /readyz tells whether the database answers).
    health: ServiceHealth = current_app.extensions[HEALTH]
    if health.failed.is_set():
        raise Unavailable("the background services died; the process is exiting",
                          code="services_failed")
    return jsonify({"status": "ok"})


@blueprint.get("/readyz")
async def readyz() -> Response:
    # Ready = the database answers and every migration on disk is applied.
    try:
        up_to_date = await is_up_to_date(services().db)
    except ApiError as error:
        raise Unavailable("the database is unreachable", code="database_unavailable") from error
    if not up_to_date:
        raise Unavailable("migrations are not applied", code="migrations_pending")
    return jsonify({"status": "ready"})
