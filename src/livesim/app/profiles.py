"""The strategy profiles a session can run, with each config key explained."""

from __future__ import annotations

from quart import Blueprint, Response, jsonify

from livesim.app import api
from livesim.app.auth import require_user
from livesim.app.state import app_state
from livesim.sim.profiles import list_profiles

blueprint = Blueprint("profiles", __name__)


@api.PROFILES_LIST.route(blueprint)
async def profiles() -> Response:
    await require_user()
    api.PROFILES_LIST.query_values(app_state().settings)
    return jsonify({"profiles": list_profiles()})
