"""The OpenAPI 3.1 document of the whole HTTP API, served at ``/openapi.json``.

Hand-maintained next to the routes rather than generated: the routes validate with
:mod:`livesim.app.validation` and their own checks, and a generator (quart-schema)
would need every handler rewritten around its models.  ``tests/api/test_fuzz.py``
keeps it honest: every registered route must appear here with its methods, and
schemathesis fuzzes the server from this document.
"""

from __future__ import annotations

from typing import Any

from quart import Blueprint, Response, jsonify

from livesim.app.context import services
from livesim.app.validation import MAX_SEQ
from livesim.sim.candles import TIMEFRAMES
from livesim.sim.status import Action, SessionStatus

blueprint = Blueprint("openapi", __name__)

TITLE = "livesim"
VERSION = "0.1.0"
MAX_EPOCH_MS = 253_402_300_800_000  # year 10000
MIN_EPOCH_MS = -62_135_596_800_000  # year 1

Schema = dict[str, Any]


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: Schema) -> Schema:
    return {"application/json": {"schema": schema}}


def _error(description: str) -> Schema:
    return {"description": description, "content": _json(_ref("Error"))}


def _query(name: str, schema: Schema, description: str, required: bool = False) -> Schema:
    return {"name": name, "in": "query", "required": required, "schema": schema,
            "description": description}


SESSION_ID = {"name": "session_id", "in": "path", "required": True,
              "schema": {"type": "string", "format": "uuid"},
              "description": "The session's id (a malformed id is a 404, like another "
                             "user's session)."}
SYMBOL: Schema = {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._:/-]{0,31}$"}
TIMEFRAME: Schema = {"type": "string", "enum": list(TIMEFRAMES)}
EPOCH_MS: Schema = {"type": "integer", "minimum": 0, "maximum": MAX_EPOCH_MS}
COMMON_ERRORS = {"400": _error("Invalid input; `details` lists each field's problem."),
                 "401": _error("Missing or invalid credentials."),
                 "503": _error("The database or the OIDC issuer is unreachable.")}
SESSION_ERRORS = {**COMMON_ERRORS,
                  "404": _error("No such session for this user (another user's is a 404 too).")}


def _speed(max_speed: float) -> Schema:
    return {"oneOf": [{"type": "number", "minimum": 1, "maximum": max_speed},
                      {"type": "string", "const": "max"}],
            "description": "Candles per timeframe of wall time, or \"max\" (unpaced)."}


def _schemas(max_speed: float) -> dict[str, Schema]:
    any_object: Schema = {"type": "object"}
    return {
        "Error": {"type": "object", "required": ["error"], "properties": {"error": {
            "type": "object", "required": ["code", "message"], "properties": {
                "code": {"type": "string"}, "message": {"type": "string"},
                "details": {}}}}},
        "SessionCreate": {
            "type": "object", "additionalProperties": False,
            "required": ["profileSlug", "symbol", "timeframe", "startMs", "endMs", "speed"],
            "properties": {
                "profileSlug": {"type": "string", "minLength": 1,
                                "description": "See GET /api/profiles."},
                "symbol": SYMBOL, "timeframe": TIMEFRAME,
                "startMs": EPOCH_MS, "endMs": {**EPOCH_MS, "description": "Exclusive."},
                "speed": _speed(max_speed),
                "config": {**any_object, "description": "Overrides of the profile's "
                           "defaults; unknown keys are a 400."},
                "gapPolicy": {"type": "string", "enum": ["fail", "skip"], "default": "fail"}}},
        "Session": {"type": "object", "properties": {
            "id": {"type": "string", "format": "uuid"}, "profileSlug": {"type": "string"},
            "symbol": {"type": "string"}, "timeframe": {"type": "string"},
            "startMs": {"type": "integer"}, "endMs": {"type": "integer"},
            "speed": _speed(max_speed), "config": any_object,
            "gapPolicy": {"type": "string"},
            "status": {"type": "string", "enum": [s.value for s in SessionStatus]},
            "error": {"oneOf": [any_object, {"type": "null"}]},
            "candleCount": {"type": "integer"}, "lastSeq": {"type": "integer"},
            "progress": {"type": "number", "minimum": 0, "maximum": 1},
            "createdAt": {"type": "string", "format": "date-time"},
            "updatedAt": {"type": "string", "format": "date-time"},
            "stats": {"oneOf": [any_object, {"type": "null"}],
                      "description": "GET of one session only: session_finished.stats "
                                     "once finished, else null."}}},
        "SessionList": {"type": "object", "properties": {
            "sessions": {"type": "array", "items": _ref("Session")}}},
        "Control": {
            "type": "object", "additionalProperties": False, "required": ["action"],
            "properties": {"action": {"type": "string", "enum": [a.value for a in Action]},
                           "speed": {**_speed(max_speed),
                                     "description": "Only with action \"speed\"."}}},
        "Event": {"type": "object", "properties": {
            "seq": {"type": "integer", "minimum": 1},
            "ts": {"type": "integer", "description": "Simulated time, epoch ms."},
            "type": {"type": "string"}, "payload": any_object}},
        "EventPage": {"type": "object", "properties": {
            "events": {"type": "array", "items": _ref("Event")},
            "nextSeq": {"type": "integer"}, "hasMore": {"type": "boolean"}}},
        "StreamTicket": {"type": "object", "properties": {
            "ticket": {"type": "string"},
            "expiresInS": {"type": "integer", "description": "Seconds left to open "
                           "the stream with it."}}},
        "Profiles": {"type": "object", "properties": {"profiles": {"type": "array", "items": {
            "type": "object", "properties": {
                "slug": {"type": "string"}, "strategy": {"type": "string"},
                "description": {"type": "string"}, "defaultConfig": any_object,
                "keys": any_object}}}}},
        "Gap": {"type": "object", "properties": {
            "fromMs": {"type": "integer"}, "toMs": {"type": "integer"},
            "missing": {"type": "integer"}}},
        "Market": {"type": "object", "properties": {
            "symbol": {"type": "string"}, "timeframe": {"type": "string"},
            "fromMs": {"type": "integer"}, "toMs": {"type": "integer"},
            "count": {"type": "integer"}}},
        "Candle": {"type": "object", "properties": {
            name: {"type": "integer" if name == "ts" else "number"}
            for name in ("ts", "open", "high", "low", "close", "volume")}},
        "ImportResult": {"type": "object", "properties": {
            "symbol": {"type": "string"}, "timeframe": {"type": "string"},
            "imported": {"type": "integer"}, "unchanged": {"type": "integer"},
            "fromMs": {"type": ["integer", "null"]}, "toMs": {"type": ["integer", "null"]}}},
    }


def _session_paths() -> dict[str, Schema]:
    base = "/api/sim/sessions"
    return {
        base: {
            "post": {
                "summary": "Create and start a session",
                "parameters": [{"name": "Idempotency-Key", "in": "header", "required": False,
                                "schema": {"type": "string", "pattern": "^[!-~]{1,200}$"},
                                "description": "Same key and body: the first session "
                                               "again (200); another body: 409."}],
                "requestBody": {"required": True, "content": _json(_ref("SessionCreate"))},
                "responses": {
                    "201": {"description": "Created and started.",
                            "content": _json(_ref("Session"))},
                    "200": {"description": "An idempotent retry: the original session.",
                            "content": _json(_ref("Session"))},
                    **COMMON_ERRORS,
                    "409": _error("Idempotency-Key reused with another body."),
                    "413": _error("Body larger than the limit."),
                    "422": _error("The range has candle gaps (gapPolicy fail)."),
                    "429": _error("Too many live sessions; see Retry-After.")}},
            "get": {
                "summary": "The caller's sessions, newest first",
                "parameters": [_query("limit", {"type": "integer", "minimum": 1,
                                                "maximum": 200}, "At most this many.")],
                "responses": {"200": {"description": "Sessions.",
                                      "content": _json(_ref("SessionList"))},
                              **COMMON_ERRORS}}},
        base + "/{session_id}": {"get": {
            "summary": "One session: status, lastSeq, progress",
            "parameters": [SESSION_ID],
            "responses": {"200": {"description": "The session.",
                                  "content": _json(_ref("Session"))}, **SESSION_ERRORS}}},
        base + "/{session_id}/events": {"get": {
            "summary": "A page of the event log",
            "parameters": [SESSION_ID,
                           _query("fromSeq", {"type": "integer", "minimum": 1,
                                              "maximum": MAX_SEQ}, "First seq (default 1)."),
                           _query("limit", {"type": "integer", "minimum": 1, "maximum": 1000},
                                  "Page size (default 500).")],
            "responses": {"200": {"description": "Events in seq order.",
                                  "content": _json(_ref("EventPage"))}, **SESSION_ERRORS}}},
        base + "/{session_id}/stream": {"get": {
            "summary": "Server-Sent Events: backlog from fromSeq, then live",
            "description": "Each event: `id: <seq>`, `event: <type>`, `data: <json>`; a "
                           "heartbeat comment while quiet; ends after the terminal event. "
                           "Authenticate with the Authorization header or, from a browser "
                           "EventSource, with `?ticket=` from POST .../stream-ticket. An "
                           "access token in the URL is refused.",
            "parameters": [SESSION_ID,
                           _query("fromSeq", {"type": "integer", "minimum": 1,
                                              "maximum": MAX_SEQ}, "First seq (default 1)."),
                           _query("ticket", {"type": "string"}, "A stream ticket."),
                           {"name": "Last-Event-ID", "in": "header", "required": False,
                            "schema": {"type": "string", "pattern": "^[0-9]{1,18}$"},
                            "description": "Resume after this seq (wins over fromSeq)."}],
            "responses": {
                "200": {"description": "The stream.",
                        "content": {"text/event-stream": {"schema": {"type": "string"}}}},
                "204": {"description": "The session is over and nothing is newer."},
                **SESSION_ERRORS,
                "429": _error("Too many open streams; see Retry-After.")}}},
        base + "/{session_id}/stream-ticket": {"post": {
            "summary": "A short-lived ticket to open this session's stream from a browser",
            "parameters": [SESSION_ID],
            "responses": {"200": {"description": "The ticket.",
                                  "content": _json(_ref("StreamTicket"))}, **SESSION_ERRORS}}},
        base + "/{session_id}/control": {"post": {
            "summary": "Pause, resume, stop, or change speed",
            "parameters": [SESSION_ID],
            "requestBody": {"required": True, "content": _json(_ref("Control"))},
            "responses": {"200": {"description": "The session after the action.",
                                  "content": _json(_ref("Session"))},
                          **SESSION_ERRORS,
                          "409": _error("The action makes no sense in this status.")}}},
    }


def _market_paths() -> dict[str, Schema]:
    symbol_q = _query("symbol", SYMBOL, "Market symbol.", required=True)
    timeframe_q = _query("timeframe", TIMEFRAME, "Timeframe.", required=True)
    any_epoch: Schema = {"type": "integer", "minimum": MIN_EPOCH_MS, "maximum": MAX_EPOCH_MS}
    return {
        "/api/candles/import": {"post": {
            "summary": "Import candles from CSV (Binance kline layout or with a header)",
            "description": "Re-importing the same file is a no-op; invalid rows are "
                           "reported with line numbers and nothing is half-imported.",
            "parameters": [symbol_q, timeframe_q],
            "requestBody": {"required": True,
                            "content": {"text/csv": {"schema": {"type": "string"}}}},
            "responses": {"200": {"description": "What was imported.",
                                  "content": _json(_ref("ImportResult"))},
                          **COMMON_ERRORS,
                          "409": _error("It would change candles a live session replays."),
                          "413": _error("Body larger than the limit."),
                          "415": _error("The body is not labelled as CSV.")}}},
        "/api/markets": {"get": {
            "summary": "Markets with candles: symbol, timeframe, range, count",
            "responses": {"200": {"description": "Markets.", "content": _json({
                "type": "object", "properties": {"markets": {
                    "type": "array", "items": _ref("Market")}}})}, **COMMON_ERRORS}}},
        "/api/candles": {"get": {
            "summary": "Candles with startMs <= ts < endMs, and the gaps",
            "parameters": [symbol_q, timeframe_q,
                           _query("startMs", any_epoch, "Inclusive (default: the "
                                  "market's first candle)."),
                           _query("endMs", any_epoch, "Exclusive (default: the market's "
                                  "end).")],
            "responses": {"200": {"description": "Candles and gaps.", "content": _json({
                "type": "object", "properties": {
                    "symbol": {"type": "string"}, "timeframe": {"type": "string"},
                    "startMs": {"type": "integer"}, "endMs": {"type": "integer"},
                    "candles": {"type": "array", "items": _ref("Candle")},
                    "gaps": {"type": "array", "items": _ref("Gap")}}})},
                **COMMON_ERRORS, "404": _error("No candles in the range.")}}},
    }


def _results_paths() -> dict[str, Schema]:
    base = "/api/sim/sessions/{session_id}"
    fmt = _query("format", {"type": "string", "enum": ["json", "csv"]},
                 "json or csv; without it, the Accept header chooses (text/csv).")
    table = {"application/json": {"schema": {"type": "object"}},
             "text/csv": {"schema": {"type": "string"}}}
    return {
        base + "/trades": {"get": {
            "summary": "Closed trades: the log's trade_closed events (with their seq)",
            "parameters": [SESSION_ID, fmt],
            "responses": {"200": {"description": "`{trades: [...]}` or CSV.",
                                  "content": table}, **SESSION_ERRORS}}},
        base + "/equity": {"get": {
            "summary": "The equity curve: the log's equity snapshots",
            "parameters": [
                SESSION_ID, fmt,
                _query("every", {"type": "integer", "minimum": 1, "maximum": 1_000_000},
                       "Every N-th snapshot (the last is always included)."),
                _query("tail", {"type": "integer", "minimum": 1, "maximum": 10_000},
                       "Only the newest N snapshots (not with every).")],
            "responses": {"200": {"description": "`{equity: [...], every|tail}` or CSV.",
                                  "content": table}, **SESSION_ERRORS}}},
        base + "/log.ndjson": {"get": {
            "summary": "The whole event log as NDJSON (one event a line, as the stream's "
                       "data)",
            "parameters": [SESSION_ID],
            "responses": {"200": {"description": "The log so far.", "content": {
                "application/x-ndjson": {"schema": {"type": "string"}}}},
                **SESSION_ERRORS}}},
    }


def _web_paths() -> dict[str, Schema]:
    html = {"text/html": {"schema": {"type": "string"}}}
    page = {"description": "The page (or how to build it).", "content": html}
    return {
        "/": {"get": {"summary": "The replay desk page", "security": [],
                      "responses": {"200": page}}},
        "/sessions/{session_id}": {"get": {
            "summary": "The page, opened on one session", "security": [],
            "parameters": [SESSION_ID],
            "responses": {"200": page, "404": _error("A malformed session id.")}}},
        "/auth/callback": {"get": {"summary": "The page, back from the OIDC issuer",
                                   "security": [], "responses": {"200": page}}},
        "/assets/{filename}": {"get": {
            "summary": "A file of the page's bundle", "security": [],
            "parameters": [{"name": "filename", "in": "path", "required": True,
                            "schema": {"type": "string"}}],
            "responses": {"200": {"description": "The file."},
                          "404": _error("No such file.")}}},
        "/api/web-config": _public("How the page signs in (auth mode, OIDC issuer and "
                                   "client id)", _json({"type": "object"})),
    }


def _public(summary: str, content: Schema | None = None) -> Schema:
    response: Schema = {"description": "OK"}
    if content is not None:
        response["content"] = content
    return {"get": {"summary": summary, "security": [], "responses": {"200": response}}}


def build_document(max_speed: float) -> Schema:
    """The OpenAPI document; ``max_speed`` is the server's speed limit (a setting)."""
    return {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": VERSION,
                 "description": "Replay candles as a live feed; run a strategy; stream the "
                                "session's event log. See /docs."},
        "security": [{"bearer": []}, {"devUser": []}],
        "paths": {
            "/healthz": _public("Liveness", _json({"type": "object"})),
            "/readyz": _public("Readiness: database reachable, migrations applied",
                               _json({"type": "object"})),
            "/openapi.json": _public("This document", _json({"type": "object"})),
            "/docs": _public("The API reference as a web page",
                             {"text/html": {"schema": {"type": "string"}}}),
            "/api/profiles": {"get": {
                "summary": "Strategy profiles and what each config key means",
                "responses": {"200": {"description": "Profiles.",
                                      "content": _json(_ref("Profiles"))}, **COMMON_ERRORS}}},
            **_session_paths(),
            **_market_paths(),
            **_results_paths(),
            **_web_paths(),
        },
        "components": {
            "schemas": _schemas(max_speed),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                           "description": "An OIDC access token (LIVESIM_AUTH=oidc); the "
                                          "user is its sub."},
                "devUser": {"type": "apiKey", "in": "header", "name": "X-Dev-User",
                            "description": "Local dev mode only (LIVESIM_AUTH=dev)."}}},
    }


@blueprint.get("/openapi.json")
async def openapi_json() -> Response:
    return jsonify(build_document(services().settings.max_speed))
