"""Market-data routes: import a CSV, list markets, read candles with their gaps.

Candles are shared by every user (a market is public data), but every route still
needs a user.  Ranges are half-open, ``[startMs, endMs)``, and every ``toMs`` in an
answer is exclusive (the last open time plus one bar), so it can be sent back as
``endMs``.
"""

from __future__ import annotations

from quart import Blueprint, Response, jsonify, request

from livesim.app import api
from livesim.app.auth import require_user
from livesim.app.bodies import allow_body_bytes
from livesim.app.state import app_state
from livesim.errors import ApiError
from livesim.market.commands import import_stream
from livesim.market.store import get_market, list_markets, load_candles

blueprint = Blueprint("market", __name__)

# ~5 MB of JSON; a client wanting more pages through with startMs/endMs.
MAX_CANDLES_PER_RESPONSE = 50_000


def _check_media_type() -> None:
    media_type = (request.mimetype or "").lower()
    if media_type and media_type not in api.CSV_MEDIA_TYPES:
        raise ApiError(
            f"send the CSV file itself as the body with Content-Type: text/csv, not "
            f"{media_type} (curl: --data-binary @file.csv -H 'Content-Type: text/csv')",
            code="unsupported_media_type", status=415,
            details=[{"field": "Content-Type",
                      "message": f"must be one of {', '.join(api.CSV_MEDIA_TYPES)}"}],
            context={"accepted": list(api.CSV_MEDIA_TYPES)})


@api.IMPORT_CANDLES.route(blueprint)
async def import_candles() -> Response:
    await require_user()
    state = app_state()
    query = api.IMPORT_CANDLES.query_values(state.settings)
    _check_media_type()
    # streamed: parsed and staged piece by piece, so any size fits in bounded memory
    allow_body_bytes(state.settings.max_import_bytes)
    return jsonify(await import_stream(state.services.db, request.body, query["symbol"],
                                       query["timeframe"]))


@api.MARKETS.route(blueprint)
async def markets() -> Response:
    await require_user()
    state = app_state()
    api.MARKETS.query_values(state.settings)
    found = await list_markets(state.services.db)
    return jsonify({"markets": [market.to_json() for market in found]})


@api.CANDLES.route(blueprint)
async def candles() -> Response:
    await require_user()
    state = app_state()
    query = api.CANDLES.query_values(state.settings)
    db = state.services.db
    symbol, timeframe = query["symbol"], query["timeframe"]
    start_ms, end_ms = query["startMs"], query["endMs"]
    if start_ms is None or end_ms is None:
        # A missing bound means the market's own; with no market at all, any range
        # ends in the same clear no_candles answer.
        market = await get_market(db, symbol, timeframe)
        first, last = (market.from_ms, market.to_ms) if market else (0, 1)
        start_ms = first if start_ms is None else start_ms
        end_ms = max(last, start_ms + 1) if end_ms is None else end_ms
    candle_set = await load_candles(db, symbol, timeframe, start_ms, end_ms,
                                    max_candles=MAX_CANDLES_PER_RESPONSE)
    return jsonify({"symbol": symbol, "timeframe": timeframe, "startMs": start_ms,
                    "endMs": end_ms,
                    "candles": [candle.to_payload() for candle in candle_set.candles],
                    "gaps": candle_set.gaps})
