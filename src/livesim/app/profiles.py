"""The strategy profiles a session can run, with each config key explained."""

from __future__ import annotations

from quart import Blueprint, Response, jsonify

from livesim.app.auth import require_user
from livesim.sim.profiles import list_profiles

blueprint = Blueprint("profiles", __name__)


@blueprint.get("/api/profiles")
async def profiles() -> Response:
    await require_user()
    return jsonify({"profiles": list_profiles()})
