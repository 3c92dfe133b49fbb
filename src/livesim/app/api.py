"""The HTTP contract, declared once: every operation's query, headers, body and responses.

Route handlers parse their input through these objects and ``/openapi.json`` (and the
offline ``/docs``) is built from them, so the two cannot disagree.  Domain rules are
imported from the module that owns them (symbol grammar and epoch bounds from
:mod:`livesim.market.checks`, timeframes from :mod:`livesim.sim.candles`, config keys
from each profile's ``param`` declarations), never restated here.

Adding a route is a matter of declaring it here and decorating its handler::

    CANCEL_ORDER = Operation(
        "delete", "/api/sim/sessions/{session_id}/orders/{order_id}", "Cancel an order",
        query={"reason": Param(String(max_length=80))},
        responses={200: Reply("The order.", ORDER)})

    @api.CANCEL_ORDER.route(blueprint)
    async def cancel_order(session_id: str, order_id: str) -> Response:
        query = api.CANCEL_ORDER.query_values(state().settings)
        ...

(a new path converter such as ``{order_id}`` is added to :attr:`Operation.rule` and
documented in :mod:`livesim.app.openapi`).  The contract test
(``tests/integration/app/test_contract.py``) then fuzzes it from the document and
compares the constraint tables.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from livesim.app.contract import (
    AnyObject,
    Checked,
    Either,
    Integer,
    Number,
    OneOf,
    Reply,
    Shape,
    String,
)
from livesim.app.inputs import (
    Body,
    Field,
    Param,
)
from livesim.app.operation import SESSION_ID, Operation
from livesim.app.validation import MAX_SEQ
from livesim.config import Settings
from livesim.errors import InvalidInput
from livesim.market.checks import MAX_EPOCH_MS, MIN_EPOCH_MS, SYMBOL, SYMBOL_HINT
from livesim.market.commands import parse_time
from livesim.runner.pacing import MAX
from livesim.sim.candles import TIMEFRAMES
from livesim.sim.inputs import CLIENT_ORDER_ID_RE
from livesim.sim.profiles import PROFILES
from livesim.sim.schema import KeySpec
from livesim.status import Action, SessionStatus

# The floor of runner.pacing.parse_speed: one candle per timeframe of wall time.
MIN_SPEED = 1
GAP_POLICIES = ("fail", "skip")
MAX_CONFIG_KEYS = 100
MAX_PAGE = 1000
MAX_LIST = 200
# An HTTP header value of visible ASCII: what a client can send back unchanged.
IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,200}")
# 400s that no single field's schema can show (they depend on two fields); the document
# names them so a schema-valid request may still get them.  The contract test allows
# exactly these on schema-valid requests.
CROSS_FIELD_CODES = {
    "invalid_range": "the end must be after the start",
    "invalid_config": "a config key of another profile, or keys that disagree "
                      "(fast < slow, exitPeriod <= entryPeriod, oversold < overbought)",
    "invalid_order": "an order's fields that disagree: a limit order needs limitPrice, a "
                     "stop order stopPrice, exactly one of qty and sizeFraction, sizes "
                     "above 0, a stop-loss and take-profit on the losing and winning "
                     "side, whole units unless the session is fractional",
    "results_window": "equity takes every or tail, not both",
    "control_mismatch": "each action takes its own fields: speed takes speed or "
                        "barsPerSecond, step takes candles, seek takes toMs or to, the "
                        "others none",
}


def _max_speed(settings: Settings) -> float:
    return settings.max_speed


def _max_bars_per_second(settings: Settings) -> float:
    return settings.max_bars_per_second


def _time(text: str) -> int:
    """An ISO 8601 date or datetime (UTC unless it has an offset) as epoch ms."""
    try:
        ms = parse_time(text)
    except InvalidInput as error:
        raise ValueError(error.message) from None
    if not MIN_EPOCH_MS <= ms <= MAX_EPOCH_MS:
        raise ValueError("must be between years 1 and 9999")
    return ms


def _config_key(name: str) -> dict[str, Any]:
    users = [slug for slug, profile in PROFILES.items()
             if any(spec.name == name for spec in profile.specs())]
    spec = next(spec for profile in PROFILES.values() for spec in profile.specs()
                if spec.name == name)
    schema = spec.json_schema()
    if len(users) < len(PROFILES):
        schema["description"] += f" (profiles: {', '.join(users)})"
    return schema


def _config_schema() -> dict[str, Any]:
    names = sorted({spec.name for profile in PROFILES.values() for spec in profile.specs()})
    return {"properties": {name: _config_key(name) for name in names},
            "additionalProperties": False}


def _key_specs() -> dict[str, KeySpec]:
    return {spec.name: spec for profile in PROFILES.values() for spec in profile.specs()}


class _Config(AnyObject):
    """The config object: each key documented and type-checked from the profiles' own
    declarations; whether a key fits the chosen profile (and keys that must agree) is
    :func:`livesim.sim.profiles.resolve_config`'s rule, a 400 ``invalid_config``."""

    def check(self, value: Any, settings: Settings) -> str | None:
        problems = self.key_problems(value, settings)
        return "; ".join(f"{key}: {message}" if key else message
                         for key, message in problems) or None

    def key_problems(self, value: Any, settings: Settings) -> list[tuple[str, str]]:
        """Each problem with the key it is about ("" for the object as a whole)."""
        message = super().check(value, settings)
        if message is not None:
            return [("", message)]
        specs = _key_specs()
        problems = []
        for key in sorted(value):
            spec = specs.get(key)
            if spec is None:
                problems.append((key, "unknown key"))
                continue
            _, problem = spec.check(value[key])
            if problem is not None:
                problems.append((key, problem))
        return problems

    def schema(self, settings: Settings) -> dict[str, Any]:
        return {**super().schema(settings), **_config_schema()}


# ---- values used in several places ----------------------------------------------------

SYMBOL_RULE = String(max_length=32, pattern=SYMBOL, hint=f"must be {SYMBOL_HINT}")
TIMEFRAME = OneOf(tuple(TIMEFRAMES))
EPOCH_MS = Integer(MIN_EPOCH_MS, MAX_EPOCH_MS, "Epoch milliseconds, UTC.")
TIME = Checked(String(max_length=64, description=(
    "ISO 8601 date or datetime, UTC unless it carries an offset (2024-01-01, "
    "2024-01-01T12:00:00Z), or epoch milliseconds as a string.")), _time)
SPEED = Either((Number(MIN_SPEED, _max_speed), OneOf((MAX,))),
               'Candles per timeframe of wall time, or "max" (unpaced).')
SEQ = Integer(1, MAX_SEQ)
PROFILE_SLUG = OneOf(tuple(PROFILES), "See GET /api/profiles.")


def _obj(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(required)}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


_INT: dict[str, Any] = {"type": "integer"}
_STR: dict[str, Any] = {"type": "string"}
_OBJECT: dict[str, Any] = {"type": "object"}
GAP = _obj({"fromMs": _INT, "toMs": _INT, "missing": _INT}, ("fromMs", "toMs", "missing"))

# Response shapes, by the component name the document gives them.
COMPONENTS: dict[str, Callable[[Settings], dict[str, Any]]] = {
    "Error": lambda s: _obj({"error": {**_obj({
        "code": _STR, "message": _STR,
        "details": {"type": "array", "items": _obj({"field": _STR, "message": _STR},
                                                   ("field", "message"))}},
        ("code", "message", "details")), "additionalProperties": True,
        "description": "Data to act on (gaps, valid values, a session id) may sit beside "
                       "code and message."}}, ("error",)),
    "Session": lambda s: _obj({
        "id": {"type": "string", "format": "uuid"}, "profileSlug": _STR, "symbol": _STR,
        "timeframe": TIMEFRAME.schema(s), "startMs": _INT, "endMs": _INT,
        "speed": SPEED.schema(s), "config": _OBJECT, "gapPolicy": _STR,
        "status": {"type": "string", "enum": [status.value for status in SessionStatus]},
        "error": {"type": ["object", "null"]}, "candleCount": _INT, "lastSeq": _INT,
        "stopRequested": {"type": "boolean", "description": "A stop was asked for and the "
                          "runner has not written session_stopped yet."},
        "progress": {"type": "number", "minimum": 0, "maximum": 1},
        "createdAt": {"type": "string", "format": "date-time"},
        "updatedAt": {"type": "string", "format": "date-time"}},
        ("id", "status", "lastSeq", "progress")),
    "Event": lambda s: _obj({"seq": {"type": "integer", "minimum": 1},
                             "ts": {"type": "integer", "description": "Simulated time."},
                             "type": _STR, "payload": _OBJECT},
                            ("seq", "ts", "type", "payload")),
    "Gap": lambda s: GAP,
}
SESSION = Shape(_ref("Session"))
ERROR = Shape(_ref("Error"))


# ---- sessions -------------------------------------------------------------------------

SESSION_CREATE = Body("SessionCreate", {
    "profileSlug": Field(PROFILE_SLUG, True),
    "symbol": Field(SYMBOL_RULE, True),
    "timeframe": Field(TIMEFRAME, True),
    "startMs": Field(EPOCH_MS, True, "Inclusive; or give start."),
    "endMs": Field(EPOCH_MS, True, "Exclusive; or give end."),
    "start": Field(TIME, True, "startMs as a time."),
    "end": Field(TIME, True, "endMs as a time (exclusive)."),
    "speed": Field(SPEED, True),
    "config": Field(_Config(MAX_CONFIG_KEYS), False,
                    "Overrides of the profile's defaults; keys of other profiles are a 400."),
    "gapPolicy": Field(OneOf(GAP_POLICIES), False,
                       "fail (default): a range with holes is a 422; skip: missing bars "
                       "are a closed market."),
}, exclusive=(("startMs", "start"), ("endMs", "end")),
    message="the session request is invalid", code="invalid_session")

MAX_STEP_CANDLES = 10_000
CONTROL = Body("Control", {
    "action": Field(OneOf(tuple(action.value for action in Action)), True),
    "speed": Field(SPEED, False, 'With action "speed": a multiplier, or "max".'),
    "barsPerSecond": Field(Number(0.01, _max_bars_per_second), False,
                           'With action "speed": the pace as candles per second of wall '
                           "time, whatever the timeframe."),
    "candles": Field(Integer(1, MAX_STEP_CANDLES), False,
                     'With action "step": release this many candles, then stay paused.'),
    "toMs": Field(EPOCH_MS, False, 'With action "seek": release, unpaced, every candle '
                                   "opening before this time, then stay paused "
                                   "(forward only)."),
    "to": Field(TIME, False, 'With action "seek": toMs as a time.'),
}, message="the control request is invalid", code="invalid_control")
# The fields each action takes: exactly one of each inner tuple (an empty list: none).
CONTROL_FIELDS: dict[Action, tuple[tuple[str, ...], ...]] = {
    Action.SPEED: (("speed", "barsPerSecond"),),
    Action.STEP: (("candles",),),
    Action.SEEK: (("toMs", "to"),),
}

BASE = "/api/sim/sessions"
CREATE_SESSION = Operation(
    "post", BASE, "Create and start a session",
    body=SESSION_CREATE,
    headers={"Idempotency-Key": Param(String(max_length=None, min_length=0,
                                             pattern=IDEMPOTENCY_KEY,
                                             hint="must be 1-200 visible ASCII characters"),
                                      description="Same key and body: the first session "
                                                  "again (200); another body: 409.")},
    responses={201: Reply("Created and started.", SESSION),
               200: Reply("An idempotent retry: the original session.", SESSION),
               404: Reply("No candles for the market in the range (no_candles).", ERROR),
               409: Reply("Idempotency-Key reused with another body.", ERROR),
               413: Reply("Body larger than the limit.", ERROR),
               422: Reply("The range has candle gaps (gapPolicy fail); error.gaps lists "
                          "them and error.sessionId names the failed session.", ERROR),
               429: Reply("Too many live sessions; see Retry-After.", ERROR,
                          headers=("Retry-After",))})
LIST_SESSIONS = Operation(
    "get", BASE, "The caller's sessions, newest first",
    query={"limit": Param(Integer(1, MAX_LIST), 50, description="At most this many.")},
    responses={200: Reply("Sessions.", Shape(_obj({"sessions": {
        "type": "array", "items": _ref("Session")}}, ("sessions",))))})
GET_SESSION = Operation(
    "get", BASE + "/{session_id}", "One session: status, lastSeq, progress",
    responses={200: Reply("The session.", SESSION)})
EVENTS = Operation(
    "get", BASE + "/{session_id}/events", "A page of the event log",
    query={"fromSeq": Param(SEQ, 1, description="First seq (default 1)."),
           "limit": Param(Integer(1, MAX_PAGE), 500, description="Page size.")},
    responses={200: Reply("Events in seq order.", Shape(_obj({
        "events": {"type": "array", "items": _ref("Event")}, "nextSeq": _INT,
        "hasMore": {"type": "boolean"}}, ("events", "nextSeq", "hasMore"))))})
STREAM = Operation(
    "get", BASE + "/{session_id}/stream", "Server-Sent Events: backlog from fromSeq, then live",
    description="Each event: `id: <seq>`, `event: <type>`, `data: <json>`; a heartbeat "
                "comment while quiet; ends after the terminal event. Authenticate with the "
                "Authorization header or, from a browser EventSource, with `?ticket=` from "
                "POST .../stream-ticket. An access token in the URL is refused.",
    query={"fromSeq": Param(SEQ, 1, description="First seq (default 1)."),
           "ticket": Param(String(max_length=1024), description="A stream ticket.")},
    headers={"Last-Event-ID": Param(Integer(0, MAX_SEQ - 1),
                                    description="Resume after this seq (wins over "
                                                "fromSeq).")},
    responses={200: Reply("The stream: one object per event.", Shape(_obj({
        "id": {"type": "string", "description": "The seq."},
        "event": {"type": "string", "description": "The event's type."},
        "data": {"type": "string", "description": "The event as JSON: seq, ts, type, "
                                                  "payload."}})),
        media_type="text/event-stream"),
               204: Reply("The session is over and nothing is newer."),
               429: Reply("Too many open streams; see Retry-After.", ERROR,
                          headers=("Retry-After",))})
STREAM_TICKET = Operation(
    "post", BASE + "/{session_id}/stream-ticket",
    "A short-lived ticket to open this session's stream from a browser",
    body=Body("StreamTicketRequest", {}, message="this request takes no fields"),
    body_required=False,
    responses={200: Reply("The ticket.", Shape(_obj({
        "ticket": _STR, "expiresInS": {"type": "integer", "description": "Seconds left "
                                       "to open the stream with it."}},
        ("ticket", "expiresInS"))))})
CONTROL_SESSION = Operation(
    "post", BASE + "/{session_id}/control",
    "Pause, resume, stop, change speed, step or seek",
    body=CONTROL,
    responses={200: Reply("The session after the action.", SESSION),
               409: Reply("The action makes no sense in this status.", ERROR)})

# ---- outside orders (inputs of the log) -------------------------------------------------

CLIENT_ORDER_ID = String(max_length=64, pattern=CLIENT_ORDER_ID_RE,
                         hint="must be 1-64 of letters, digits and ._:- (not first)")
_PRICE = Number(0, None)
ORDER = Body("Order", {
    "clientOrderId": Field(CLIENT_ORDER_ID, True, "Your id for the order; a retry with the "
                           "same id and body is the same order, another body a 409."),
    "side": Field(OneOf(("buy", "sell")), True),
    "type": Field(OneOf(("market", "limit", "stop")), False, "market (default), limit or "
                  "stop."),
    "qty": Field(Number(0, None), False, "Units; or give sizeFraction."),
    "sizeFraction": Field(Number(0, 1), False, "A share of equity, as a strategy sizes."),
    "limitPrice": Field(_PRICE, False, "For a limit order."),
    "stopPrice": Field(_PRICE, False, "For a stop order."),
    "stopLoss": Field(_PRICE, False, "Stop-loss price of the trade the order opens."),
    "takeProfit": Field(_PRICE, False, "Take-profit price of the trade the order opens."),
    "expiresAfterCandles": Field(Integer(1, 1_000_000), False,
                                 "Good till cancelled unless given."),
}, message="the order is invalid", code="invalid_order")
ORDER_ACCEPTED = Shape(_obj({
    "clientOrderId": {"type": ["string", "null"], "description": "null for a close."},
    "kind": _STR,
    "status": {"type": "string", "enum": ["pending", "recorded"],
               "description": "pending: it takes effect at the next candle; recorded: "
                              "its candle is fixed (candleIndex)."},
    "candleIndex": {"type": ["integer", "null"]}}, ("kind", "status")))
SUBMIT_ORDER = Operation(
    "post", BASE + "/{session_id}/orders", "Place an order (market, limit or stop)",
    description="An input of the session's log: recorded now, it takes effect at the next "
                "candle boundary (order_submitted with source user, then fills, "
                "rejections with reasons, order_cancelled, order_expired).",
    body=ORDER,
    responses={202: Reply("Recorded; it takes effect at the next candle.", ORDER_ACCEPTED),
               200: Reply("A retry of the same order.", ORDER_ACCEPTED),
               409: Reply("clientOrderId reused with another body, or the session is "
                          "over or stopping.", ERROR)})
LIST_ORDERS = Operation(
    "get", BASE + "/{session_id}/orders", "Open orders, and inputs not yet taken",
    responses={200: Reply("Open orders (from the log) and pending inputs.", Shape(_obj({
        "orders": {"type": "array", "items": _OBJECT},
        "pending": {"type": "array", "items": _OBJECT}}, ("orders", "pending"))))})
CANCEL_ORDER = Operation(
    "delete", BASE + "/{session_id}/orders/{client_order_id}", "Cancel an open order",
    path_params={"client_order_id": Param(CLIENT_ORDER_ID, required=True,
                                          description="The order's clientOrderId.")},
    responses={202: Reply("Recorded; it takes effect at the next candle.", ORDER_ACCEPTED),
               200: Reply("A retry of the same cancel.", ORDER_ACCEPTED),
               409: Reply("The session is over or stopping.", ERROR)})
CLOSE_POSITION = Operation(
    "post", BASE + "/{session_id}/position/close", "Flatten: close the open trade",
    description="Each call is a new input; closing while flat is an order_rejected.",
    body=Body("ClosePosition", {}, message="this request takes no fields"),
    body_required=False,
    responses={202: Reply("Recorded; it takes effect at the next candle.", ORDER_ACCEPTED),
               409: Reply("The session is over or stopping.", ERROR)})

# ---- results (read from the log) and the page -------------------------------------------

RESULT_FORMATS = ("json", "csv")
MAX_EVERY = 1_000_000
MAX_TAIL = 10_000
_FORMAT = Param(OneOf(RESULT_FORMATS), description="json or csv; without it, the Accept "
                                                   "header chooses (text/csv for CSV).")
_ROWS = {"type": "array", "items": _OBJECT}
TRADES = Operation(
    "get", BASE + "/{session_id}/trades", "Closed trades (the trade_closed events)",
    query={"format": _FORMAT},
    responses={200: Reply("The trades, in log order.", Shape(_obj({"trades": _ROWS},
                                                                  ("trades",))),
                          alternatives=("text/csv",))})
EQUITY = Operation(
    "get", BASE + "/{session_id}/equity", "The equity curve (the equity events)",
    query={"format": _FORMAT,
           "every": Param(Integer(1, MAX_EVERY), description="Every N-th snapshot (the "
                          "last always included)."),
           "tail": Param(Integer(1, MAX_TAIL), description="Only the newest N.")},
    responses={200: Reply("The snapshots, in log order.", Shape(_obj({"equity": _ROWS},
                                                                     ("equity",))),
                          alternatives=("text/csv",))})
LOG_NDJSON = Operation(
    "get", BASE + "/{session_id}/log.ndjson", "The whole log as NDJSON (a download)",
    responses={200: Reply("One event a line, as the stream's data.", Shape({"type": "string"}),
                          media_type="application/x-ndjson")})
_PAGE = Reply("The page (or, before `just web`, how to build it).", Shape({"type": "string"}),
              media_type="text/html")
INDEX_PAGE = Operation("get", "/", "The replay desk", public=True, responses={200: _PAGE})
SESSION_PAGE = Operation("get", "/sessions/{session_id}", "The replay desk on one session",
                         public=True, responses={200: _PAGE})
AUTH_CALLBACK_PAGE = Operation("get", "/auth/callback", "The page's OIDC sign-in return",
                               public=True, responses={200: _PAGE})
ASSET = Operation(
    "get", "/assets/{filename}", "A file of the page's bundle", public=True,
    path_params={"filename": Param(String(max_length=200, pattern=re.compile(
        r"[A-Za-z0-9._-]+"), hint="must be a file name"), required=True,
        description="A bundle file.")},
    responses={200: Reply("The file.", Shape({"type": "string"}),
                          media_type="application/octet-stream"),
               404: Reply("No such file.", ERROR)})
WEB_CONFIG = Operation(
    "get", "/api/web-config", "How the page signs in (nothing secret)", public=True,
    responses={200: Reply("The page's settings.", Shape(_obj({
        "authMode": _STR, "oidcIssuer": {"type": ["string", "null"]},
        "oidcClientId": {"type": ["string", "null"]}, "maxSpeed": {"type": "number"},
        "maxBarsPerSecond": {"type": "number"}}, ("authMode",))))})

# ---- profiles and market data ---------------------------------------------------------

PROFILES_LIST = Operation(
    "get", "/api/profiles", "Strategy profiles and what each config key means",
    responses={200: Reply("Profiles.", Shape(_obj({"profiles": {"type": "array", "items": _obj({
        "slug": _STR, "strategy": _STR, "description": _STR, "defaultConfig": _OBJECT,
        "keys": _OBJECT}, ("slug", "strategy", "defaultConfig", "keys"))}}, ("profiles",))))})

MARKET_QUERY = {"symbol": Param(SYMBOL_RULE, required=True, description="Market symbol."),
                "timeframe": Param(TIMEFRAME, required=True, description="Timeframe.")}
# What a CSV upload may be labelled.  A form encoding is refused: `curl -d @file`
# strips the newlines of the file, so the body would no longer be the CSV.
CSV_MEDIA_TYPES = ("text/csv", "text/plain", "application/csv", "application/vnd.ms-excel",
                   "application/octet-stream")
IMPORT_CANDLES = Operation(
    "post", "/api/candles/import",
    "Import candles from CSV (Binance kline layout or with a header)",
    description="Re-importing the same file is a no-op; invalid rows are reported with line "
                "numbers and nothing is half-imported.",
    query=MARKET_QUERY,
    raw_body={"text/csv": Shape(_STR)},
    responses={200: Reply("What was imported.", Shape(_obj({
        "symbol": _STR, "timeframe": _STR, "imported": _INT, "unchanged": _INT,
        "fromMs": {"type": ["integer", "null"]}, "toMs": {"type": ["integer", "null"]}},
        ("symbol", "timeframe", "imported", "unchanged")))),
        409: Reply("It would change candles a live session replays.", ERROR),
        413: Reply("Body larger than the limit.", ERROR),
        415: Reply("The body is not labelled as CSV; error.accepted lists the types.",
                   ERROR)})
MARKETS = Operation(
    "get", "/api/markets", "Markets with candles: symbol, timeframe, range, count",
    responses={200: Reply("Markets.", Shape(_obj({"markets": {"type": "array", "items": _obj({
        "symbol": _STR, "timeframe": _STR, "fromMs": _INT, "toMs": _INT, "count": _INT},
        ("symbol", "timeframe", "fromMs", "toMs", "count"))}}, ("markets",))))})
CANDLES = Operation(
    "get", "/api/candles", "Candles with startMs <= ts < endMs, and the gaps",
    query={**MARKET_QUERY,
           "startMs": Param(EPOCH_MS, description="Inclusive (default: the market's first "
                                                  "candle)."),
           "endMs": Param(EPOCH_MS, description="Exclusive (default: the market's end).")},
    responses={200: Reply("Candles and gaps.", Shape(_obj({
        "symbol": _STR, "timeframe": _STR, "startMs": _INT, "endMs": _INT,
        "candles": {"type": "array", "items": _obj({
            name: _INT if name == "ts" else {"type": "number"}
            for name in ("ts", "open", "high", "low", "close", "volume")})},
        "gaps": {"type": "array", "items": _ref("Gap")}},
        ("candles", "gaps")))),
        404: Reply("No candles in the range.", ERROR)})

# ---- probes and the document itself ---------------------------------------------------

HEALTHZ = Operation("get", "/healthz", "Liveness", public=True,
                    responses={200: Reply("OK", Shape(_OBJECT))})
READYZ = Operation("get", "/readyz", "Readiness: database reachable, migrations applied",
                   public=True, responses={200: Reply("OK", Shape(_OBJECT)),
                                           503: Reply("Not ready.", ERROR)})
OPENAPI = Operation("get", "/openapi.json", "This document", public=True,
                    responses={200: Reply("OK", Shape(_OBJECT))})
DOCS = Operation("get", "/docs", "The API reference as a web page", public=True,
                 responses={200: Reply("OK", Shape(_STR), media_type="text/html")})
SESSION_ID_PARAM = SESSION_ID
