"""Session routes: create, list, get, a page of events, and controls.

Each route reads its input through its declaration in :mod:`livesim.app.api`.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from quart import Blueprint, Response, jsonify

from livesim.app import api
from livesim.app.auth import require_user
from livesim.app.session_view import get_user_session, session_json
from livesim.app.state import app_state
from livesim.errors import Detail, InvalidInput, NotFound
from livesim.eventlog import record_from_row
from livesim.runner.lifecycle import Control, CreateRequest, control_session, create_session
from livesim.runner.pacing import parse_speed
from livesim.status import Action

blueprint = Blueprint("sessions", __name__)


def create_request(body: dict[str, Any], max_speed: float) -> CreateRequest:
    """A checked create body as the runner's request (times given as ISO resolved)."""
    start_ms = body["startMs"] if "startMs" in body else api.TIME.parse(body["start"])
    end_ms = body["endMs"] if "endMs" in body else api.TIME.parse(body["end"])
    if not isinstance(start_ms, int) or not isinstance(end_ms, int) or start_ms >= end_ms:
        end_field = "endMs" if "endMs" in body else "end"
        raise InvalidInput("the end must be after the start", code="invalid_range",
                           details=[{"field": end_field, "message": "must be after the start"}])
    return CreateRequest(
        profile_slug=body["profileSlug"], symbol=body["symbol"], timeframe=body["timeframe"],
        start_ms=start_ms, end_ms=end_ms, speed=parse_speed(body["speed"], max_speed),
        config=body.get("config") or {}, gap_policy=body.get("gapPolicy", "fail"))


async def _session_response(user: str, session_id: Any, status: int = 200) -> Response:
    row = await app_state().services.db.run("get-user-session-progress", id=session_id,
                                            user_id=user)
    if row is None:
        raise NotFound("no such session", code="session_not_found")
    response = jsonify(session_json(row))
    response.status_code = status
    return response


@api.CREATE_SESSION.route(blueprint)
async def create() -> Response:
    user = await require_user()
    state = app_state()
    svc = state.services
    api.CREATE_SESSION.query_values(state.settings)
    key = api.CREATE_SESSION.header("Idempotency-Key", state.settings)
    body = await api.CREATE_SESSION.json_body(state.settings)
    request = create_request(body, state.settings.max_speed)
    created = await create_session(svc.db, svc.supervisor, state.settings, user, request, key)
    return await _session_response(user, created.row["id"], 201 if created.new else 200)


@api.LIST_SESSIONS.route(blueprint)
async def list_sessions() -> Response:
    user = await require_user()
    state = app_state()
    limit = api.LIST_SESSIONS.query_values(state.settings)["limit"]
    rows: list[asyncpg.Record] = await state.services.db.run(
        "list-user-sessions", user_id=user, limit=limit)
    return jsonify({"sessions": [session_json(row) for row in rows]})


@api.GET_SESSION.route(blueprint)
async def get(session_id: str) -> Response:
    user = await require_user()
    api.GET_SESSION.query_values(app_state().settings)
    return await _session_response(user, session_id)


@api.EVENTS.route(blueprint)
async def events(session_id: str) -> Response:
    user = await require_user()
    state = app_state()
    db = state.services.db
    query = api.EVENTS.query_values(state.settings)
    await get_user_session(db, user, session_id)
    from_seq, limit = query["fromSeq"], query["limit"]
    rows = await db.run("select-events", session_id=session_id, from_seq=from_seq, limit=limit)
    records = [record_from_row(row) for row in rows]
    next_seq = records[-1].seq + 1 if records else from_seq
    return jsonify({"events": [r.to_json_obj() for r in records], "nextSeq": next_seq,
                    "hasMore": len(records) == limit})


def control_request(body: dict[str, Any]) -> Control:
    """A checked control body: each action with exactly the fields it takes."""
    action = Action(body["action"])
    wanted = api.CONTROL_FIELDS.get(action, ())
    allowed = {name for group in wanted for name in group}
    problems: list[Detail] = [
        {"field": name, "message": f"does not go with action {action.value}"}
        for name in sorted(set(body) - {"action"} - allowed)]
    for group in wanted:
        given = [name for name in group if name in body]
        if len(given) != 1:
            problems.append({"field": group[-1] if given else group[0],
                             "message": f"action {action.value} takes exactly one of "
                                        f"{', '.join(group)}"})
    if problems:
        raise InvalidInput("the control request does not fit its action",
                           code="control_mismatch", details=problems)
    to_ms = body.get("toMs")
    if "to" in body:
        to_ms = api.TIME.parse(body["to"])
    return Control(action, speed=body.get("speed"), bars_per_second=body.get("barsPerSecond"),
                   candles=body.get("candles", 0), to_ms=to_ms)


@api.CONTROL_SESSION.route(blueprint)
async def control(session_id: str) -> Response:
    user = await require_user()
    state = app_state()
    svc = state.services
    api.CONTROL_SESSION.query_values(state.settings)
    body = await api.CONTROL_SESSION.json_body(state.settings)
    await control_session(svc.db, svc.supervisor, state.settings, user, session_id,
                          control_request(body))
    return await _session_response(user, session_id)
