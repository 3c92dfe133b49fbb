"""The market routes through Quart's test client (``app.test_app()``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import trio
from quart.typing import TestClientProtocol as Client

from livesim.app import create_app
from livesim.config import Settings
from livesim.db.bridge import Database
from livesim.market.store import upsert_candles
from tests.support.stubs import START_MS, candle_series

M = 60_000
USER = {"X-Dev-User": "alice"}
CSV = {"Content-Type": "text/csv", **USER}


def binance_csv(count: int, *, skip: tuple[int, ...] = ()) -> bytes:
    return "".join(f"{c.ts},{c.open},{c.high},{c.low},{c.close},{c.volume},0,0,0,0,0,0\n"
                   for i, c in enumerate(candle_series(count)) if i not in skip).encode()


@pytest.fixture
async def client(db: Database, database_url: str, schema_name: str
                 ) -> AsyncIterator[Client]:
    app = create_app(Settings(auth_mode="dev"), database_url, schema=schema_name)
    async with app.test_app() as test_app:
        yield test_app.test_client()


async def call(client: Client, method: str, path: str, *, status: int,
               **kwargs: Any) -> Any:
    kwargs.setdefault("headers", USER)
    response = await client.open(path, method=method, **kwargs)
    body = await response.get_json()
    assert response.status_code == status, body
    return body


async def import_csv(client: Client, data: bytes, *, status: int = 200,
                     symbol: str = "BTCUSDT", timeframe: str = "1m") -> Any:
    return await call(client, "POST", "/api/candles/import", status=status, data=data,
                      headers=CSV, query_string={"symbol": symbol, "timeframe": timeframe})


async def test_import_route_then_reimport_reports_unchanged(
        client: Client, db: Database) -> None:
    body = await import_csv(client, binance_csv(30))
    assert body == {"symbol": "BTCUSDT", "timeframe": "1m", "imported": 30, "unchanged": 0,
                    "fromMs": START_MS, "toMs": START_MS + 30 * M}
    again = await import_csv(client, binance_csv(30))
    assert (again["imported"], again["unchanged"]) == (0, 30)


async def test_import_route_bad_rows_400_with_line_numbers_nothing_written(
        client: Client, db: Database) -> None:
    data = binance_csv(5) + f"{START_MS + 5 * M},1,x,0.5,1,1\n{START_MS + 6 * M},1,2,3,1,1\n" \
        .encode()
    error = (await import_csv(client, data, status=400))["error"]
    assert error["code"] == "invalid_csv"
    assert [(e["line"], e["message"].split(" ")[0]) for e in error["errors"]] == [
        (6, "high"), (7, "high")]
    assert await db.fetch_sql("SELECT ts FROM candles") == []


async def test_import_route_unknown_timeframe_400_lists_valid_ones(
        client: Client) -> None:
    error = (await import_csv(client, binance_csv(3), timeframe="7m", status=400))["error"]
    [problem] = error["details"]
    assert problem["field"] == "timeframe"
    assert "1m, 3m, 5m, 15m, 30m, 1h, 2h, 4h, 6h, 12h, 1d" in problem["message"]


async def test_import_route_bad_symbol_and_empty_body_are_400(
        client: Client) -> None:
    error = (await import_csv(client, binance_csv(3), symbol="no spaces", status=400))["error"]
    assert error["details"][0]["field"] == "symbol"
    assert (await import_csv(client, b"", status=400))["error"]["code"] == "empty_csv"


async def test_import_route_form_or_json_body_is_415(client: Client) -> None:
    for media_type in ("application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                       "application/json"):
        body = await call(client, "POST", "/api/candles/import", status=415,
                          data=binance_csv(2), headers={"Content-Type": media_type, **USER},
                          query_string={"symbol": "BTCUSDT", "timeframe": "1m"})
        assert "--data-binary" in body["error"]["message"]


async def test_markets_route_lists_imported_market(client: Client) -> None:
    assert await call(client, "GET", "/api/markets", status=200) == {"markets": []}
    await import_csv(client, binance_csv(10))
    assert await call(client, "GET", "/api/markets", status=200) == {"markets": [
        {"symbol": "BTCUSDT", "timeframe": "1m", "fromMs": START_MS,
         "toMs": START_MS + 10 * M, "count": 10}]}


async def test_candles_route_range_with_gaps(client: Client) -> None:
    await import_csv(client, binance_csv(10, skip=(4, 5)))
    body = await call(client, "GET", "/api/candles", status=200, query_string={
        "symbol": "BTCUSDT", "timeframe": "1m", "startMs": START_MS + M,
        "endMs": START_MS + 8 * M})
    expected = [c.to_payload() for i, c in enumerate(candle_series(8)) if i in (1, 2, 3, 6, 7)]
    assert body["candles"] == expected
    assert body["gaps"] == [{"fromMs": START_MS + 4 * M, "toMs": START_MS + 6 * M,
                             "missing": 2}]


async def test_candles_route_without_bounds_returns_whole_market(
        client: Client) -> None:
    await import_csv(client, binance_csv(6))
    body = await call(client, "GET", "/api/candles", status=200,
                      query_string={"symbol": "BTCUSDT", "timeframe": "1m"})
    assert (body["startMs"], body["endMs"]) == (START_MS, START_MS + 6 * M)
    assert len(body["candles"]) == 6
    assert body["gaps"] == []


async def test_candles_route_no_candles_is_404(client: Client) -> None:
    for query in ({"symbol": "NOPE", "timeframe": "1m"},
                  {"symbol": "NOPE", "timeframe": "1m", "startMs": START_MS,
                   "endMs": START_MS + M}):
        error = (await call(client, "GET", "/api/candles", status=404,
                            query_string=query))["error"]
        assert error["code"] == "no_candles"


async def test_candles_route_over_cap_is_400_with_suggested_end(
        client: Client, db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("livesim.app.market.MAX_CANDLES_PER_RESPONSE", 5)
    await upsert_candles(db, "BTCUSDT", "1m", candle_series(8))
    error = (await call(client, "GET", "/api/candles", status=400, query_string={
        "symbol": "BTCUSDT", "timeframe": "1m"}))["error"]
    assert error["code"] == "too_many_candles"
    assert (error["max"], error["suggestedEndMs"]) == (5, START_MS + 5 * M)


async def test_candles_route_bad_query_lists_each_problem(client: Client) -> None:
    error = (await call(client, "GET", "/api/candles", status=400, query_string={
        "timeframe": "2d", "startMs": "soon", "extra": "1"}))["error"]
    assert {p["field"] for p in error["details"]} == {"extra", "symbol", "timeframe",
                                                       "startMs"}


async def test_market_routes_need_a_user(client: Client) -> None:
    for method, path in (("GET", "/api/markets"), ("GET", "/api/candles"),
                         ("POST", "/api/candles/import")):
        error = (await call(client, method, path, status=401, headers={}))["error"]
        assert error["code"] == "missing_user"


async def test_candles_route_5m_over_a_1m_market_is_aggregated(client: Client) -> None:
    await import_csv(client, binance_csv(30, skip=(12,)))
    body = await call(client, "GET", "/api/candles", status=200, query_string={
        "symbol": "BTCUSDT", "timeframe": "5m", "startMs": START_MS,
        "endMs": START_MS + 30 * M})
    minutes = candle_series(30)
    assert [c["ts"] for c in body["candles"]] == [START_MS + i * 5 * M for i in (0, 1, 3, 4, 5)]
    first = minutes[:5]
    assert body["candles"][0] == {"ts": START_MS, "open": first[0].open,
                                  "high": max(c.high for c in first),
                                  "low": min(c.low for c in first), "close": first[-1].close,
                                  "volume": sum(c.volume for c in first)}
    assert body["gaps"] == [{"fromMs": START_MS + 10 * M, "toMs": START_MS + 15 * M,
                             "missing": 1}]


async def test_session_on_5m_over_a_1m_market_replays_the_aggregated_candles(
        client: Client) -> None:
    await import_csv(client, binance_csv(60))
    created = await call(client, "POST", "/api/sim/sessions", status=201, json={
        "profileSlug": "buy-and-hold", "symbol": "BTCUSDT", "timeframe": "5m",
        "startMs": START_MS, "endMs": START_MS + 60 * M, "speed": "max"})
    with trio.fail_after(20):
        while True:
            page = await call(client, "GET", f"/api/sim/sessions/{created['id']}/events",
                              status=200, query_string={"fromSeq": 1, "limit": 1000})
            if page["events"] and page["events"][-1]["type"].startswith("session_"):
                if page["events"][-1]["type"] != "session_started":
                    break
            await trio.sleep(0.05)
    candles = [e["payload"] for e in page["events"] if e["type"] == "candle"]
    assert [c["ts"] for c in candles] == [START_MS + i * 5 * M for i in range(12)]
    assert page["events"][-1]["type"] == "session_finished"
