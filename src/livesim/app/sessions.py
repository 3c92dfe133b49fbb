"""Session routes: create, list, get, a page of events, and controls."""

from __future__ import annotations

import re
from typing import Any

from quart import Blueprint, Response, jsonify, request

from livesim.app.auth import require_user
from livesim.app.context import services
from livesim.app.results import session_view
from livesim.app.validation import (
    MAX_SEQ,
    Check,
    Field,
    check_fields,
    int_param,
    integer,
    json_object,
    one_of,
    parse_json_object,
    parse_query,
    string,
    symbol,
    timeframe,
)
from livesim.errors import InvalidInput
from livesim.eventlog import record_from_row
from livesim.runner.lifecycle import (
    CreateRequest,
    control_session,
    create_session,
    get_user_session,
    session_json,
)
from livesim.runner.pacing import parse_speed
from livesim.sim.candles import timeframe_ms
from livesim.sim.status import Action

blueprint = Blueprint("sessions", __name__)

IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")
MAX_EPOCH_MS = 253_402_300_800_000  # year 10000: anything later is a unit mistake
MAX_PAGE = 1000
MAX_LIST = 200


async def json_body() -> dict[str, Any]:
    """The request's JSON object, or a 400 that says what is wrong with it."""
    # NaN, duplicate keys and deep nesting too (the bare parser 500s on the last).
    return parse_json_object(await request.get_data(as_text=False))


def _speed_check(max_speed: float) -> Check:
    def check(value: Any) -> str | None:
        try:
            parse_speed(value, max_speed)
        except ValueError as error:
            return str(error).removeprefix("speed ")
        return None
    return check


def create_fields(max_speed: float) -> dict[str, Field]:
    """How each field of a create request is checked."""
    return {
        "profileSlug": Field(string(max_length=64, hint="must be a profile slug "
                                                        "(see GET /api/profiles)"), True),
        "symbol": Field(symbol(), True),
        "timeframe": Field(timeframe(), True),
        "startMs": Field(integer(0, MAX_EPOCH_MS), True),
        "endMs": Field(integer(0, MAX_EPOCH_MS), True),
        "speed": Field(_speed_check(max_speed), True),
        "config": Field(json_object()),
        "gapPolicy": Field(one_of(("fail", "skip"))),
    }


def parse_create(body: dict[str, Any], max_speed: float) -> CreateRequest:
    problems = check_fields(body, create_fields(max_speed))
    if not problems and body["startMs"] >= body["endMs"]:
        problems.add("endMs", "must be after startMs")
    problems.raise_if_any("the session request is invalid", "invalid_session")
    return CreateRequest(
        profile_slug=body["profileSlug"], symbol=body["symbol"], timeframe=body["timeframe"],
        start_ms=body["startMs"], end_ms=body["endMs"],
        speed=parse_speed(body["speed"], max_speed), config=body.get("config") or {},
        gap_policy=body.get("gapPolicy", "fail"))


# speed is checked by control_session, against the session's settings
CONTROL_FIELDS = {"action": Field(one_of(a.value for a in Action), True),
                  "speed": Field(lambda value: None)}


def _session_response(row: Any, status: int = 200) -> Response:
    response = jsonify(session_json(row, timeframe_ms(row["timeframe"])))
    response.status_code = status
    return response


@blueprint.post("/api/sim/sessions")
async def create() -> Response:
    user = await require_user()
    svc = services()
    key = request.headers.get("Idempotency-Key")
    if key is not None and not IDEMPOTENCY_KEY.match(key):
        raise InvalidInput("Idempotency-Key must be 1-200 visible ASCII characters",
                           code="invalid_idempotency_key")
    create_request = parse_create(await json_body(), svc.settings.max_speed)
    created = await create_session(svc.db, svc.supervisor, svc.settings, user, create_request,
                                   key)
    row = await svc.db.run("get-user-session-progress", id=created.row["id"], user_id=user)
    return _session_response(row, 201 if created.new else 200)


@blueprint.get("/api/sim/sessions")
async def list_sessions() -> Response:
    user = await require_user()
    limit = parse_query(request.args, {"limit": int_param(1, MAX_LIST, 50)})["limit"]
    rows = await services().db.run("list-user-sessions", user_id=user, limit=limit)
    return jsonify({"sessions": [session_json(r, timeframe_ms(r["timeframe"])) for r in rows]})


@blueprint.get("/api/sim/sessions/<session_id>")
async def get(session_id: str) -> Response:
    user = await require_user()
    await get_user_session(services().db, user, session_id)
    row = await services().db.run("get-user-session-progress", id=session_id, user_id=user)
    return jsonify(await session_view(services().db, row))  # with stats (app/results.py)


@blueprint.get("/api/sim/sessions/<session_id>/events")
async def events(session_id: str) -> Response:
    user = await require_user()
    db = services().db
    await get_user_session(db, user, session_id)
    query = parse_query(request.args, {"fromSeq": int_param(1, MAX_SEQ, 1),
                                       "limit": int_param(1, MAX_PAGE, 500)})
    from_seq, limit = query["fromSeq"], query["limit"]
    rows = await db.run("select-events", session_id=session_id, from_seq=from_seq, limit=limit)
    records = [record_from_row(row) for row in rows]
    next_seq = records[-1].seq + 1 if records else from_seq
    return jsonify({"events": [r.to_json_obj() for r in records], "nextSeq": next_seq,
                    "hasMore": len(records) == limit})


@blueprint.post("/api/sim/sessions/<session_id>/control")
async def control(session_id: str) -> Response:
    user = await require_user()
    svc = services()
    body = await json_body()
    check_fields(body, CONTROL_FIELDS).raise_if_any("the control request is invalid",
                                                    "invalid_control")
    action = Action(body["action"])
    if action is not Action.SPEED and "speed" in body:
        raise InvalidInput("speed goes only with the speed action", code="invalid_control",
                           details=[{"field": "speed", "message": "only with action speed"}])
    await control_session(svc.db, svc.supervisor, svc.settings, user, session_id, action,
                          body.get("speed"))
    row = await svc.db.run("get-user-session-progress", id=session_id, user_id=user)
    return _session_response(row)
