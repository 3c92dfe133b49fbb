"""The candle store against a real PostgreSQL: upserts, ranges, gaps, markets."""

from __future__ import annotations

import pytest

from livesim.db.bridge import Database
from livesim.errors import InvalidInput
from livesim.market.store import (
    NoCandles,
    TooManyCandles,
    get_market,
    list_markets,
    load_candles,
    upsert_candles,
)
from livesim.sim.candles import Candle
from tests.support.stubs import START_MS, candle_series

M = 60_000


async def stored(db: Database, symbol: str = "TEST") -> list[tuple[object, ...]]:
    rows = await db.fetch_sql(
        "SELECT timeframe, ts, open, high, low, close, volume, xmin::text AS version "
        "FROM candles WHERE symbol = $1 ORDER BY timeframe, ts", symbol)
    return [tuple(row) for row in rows]


async def test_upsert_candles_new_rows_all_imported(db: Database) -> None:
    candles = candle_series(30)
    assert await upsert_candles(db, "TEST", "1m", candles) == (30, 0)
    loaded = await load_candles(db, "TEST", "1m", START_MS, START_MS + 30 * M)
    assert loaded.candles == candles
    assert loaded.gaps == []


async def test_upsert_candles_same_candles_again_all_unchanged_no_row_touched(
        db: Database) -> None:
    candles = candle_series(12_000)  # several batches
    await upsert_candles(db, "TEST", "1m", candles)
    before = await stored(db)
    result = await upsert_candles(db, "TEST", "1m", candles)
    assert (result.imported, result.unchanged) == (0, 12_000)
    assert await stored(db) == before  # same values and same row versions (xmin)


async def test_upsert_candles_changed_values_updated_others_unchanged(db: Database) -> None:
    candles = candle_series(10)
    await upsert_candles(db, "TEST", "1m", candles)
    changed = [*candles]
    changed[3] = Candle(candles[3].ts, candles[3].open, candles[3].high + 1, candles[3].low,
                        candles[3].close, candles[3].volume)
    extra = Candle(START_MS + 10 * M, 1.0, 1.0, 1.0, 1.0, 1.0)
    assert await upsert_candles(db, "TEST", "1m", [*changed, extra]) == (2, 9)
    loaded = await load_candles(db, "TEST", "1m", START_MS, START_MS + 11 * M)
    assert loaded.candles == [*changed, extra]


async def test_upsert_candles_invalid_candle_late_writes_nothing(db: Database) -> None:
    candles = candle_series(12_000)
    bad = candles[11_000]
    candles[11_000] = Candle(bad.ts, bad.open, bad.low - 1, bad.low, bad.close, bad.volume)
    with pytest.raises(InvalidInput) as error:
        await upsert_candles(db, "TEST", "1m", candles)
    assert error.value.code == "invalid_candle"
    assert error.value.details["ts"] == bad.ts
    assert await stored(db) == []  # the first two batches were rolled back


async def test_upsert_candles_out_of_order_is_refused(db: Database) -> None:
    candles = candle_series(3)
    with pytest.raises(InvalidInput, match="strictly increase"):
        await upsert_candles(db, "TEST", "1m", [candles[1], candles[0]])
    assert await stored(db) == []


async def test_upsert_candles_bad_symbol_or_timeframe_is_refused(db: Database) -> None:
    with pytest.raises(InvalidInput) as error:
        await upsert_candles(db, "no spaces", "1m", candle_series(1))
    assert error.value.code == "invalid_symbol"
    with pytest.raises(InvalidInput) as error:
        await upsert_candles(db, "TEST", "1w", candle_series(1))
    assert error.value.code == "unknown_timeframe"


async def test_load_candles_start_inclusive_end_exclusive(db: Database) -> None:
    candles = candle_series(10)
    await upsert_candles(db, "TEST", "1m", candles)
    loaded = await load_candles(db, "TEST", "1m", START_MS + 2 * M, START_MS + 5 * M)
    assert loaded.candles == candles[2:5]
    off_grid = await load_candles(db, "TEST", "1m", START_MS + 2 * M + 1, START_MS + 5 * M + 1)
    assert off_grid.candles == candles[3:6]


async def test_load_candles_other_markets_not_mixed_in(db: Database) -> None:
    await upsert_candles(db, "TEST", "1m", candle_series(5))
    await upsert_candles(db, "OTHER", "1m", candle_series(5, seed=1))
    await upsert_candles(db, "TEST", "5m", candle_series(5, timeframe="5m", seed=2))
    loaded = await load_candles(db, "TEST", "1m", START_MS, START_MS + 5 * M)
    assert loaded.candles == candle_series(5)


async def test_load_candles_holes_reported_as_gaps(db: Database) -> None:
    candles = [c for i, c in enumerate(candle_series(20)) if i not in (0, 7, 8, 19)]
    await upsert_candles(db, "TEST", "1m", candles)
    loaded = await load_candles(db, "TEST", "1m", START_MS, START_MS + 20 * M)
    assert loaded.candles == candles
    assert loaded.gaps == [
        {"fromMs": START_MS, "toMs": START_MS + M, "missing": 1},
        {"fromMs": START_MS + 7 * M, "toMs": START_MS + 9 * M, "missing": 2},
        {"fromMs": START_MS + 19 * M, "toMs": START_MS + 20 * M, "missing": 1},
    ]


async def test_load_candles_none_in_range_raises_no_candles_with_market(
        db: Database) -> None:
    await upsert_candles(db, "TEST", "1m", candle_series(5))
    with pytest.raises(NoCandles) as error:
        await load_candles(db, "TEST", "1m", START_MS + 5 * M, START_MS + 9 * M)
    assert (error.value.status, error.value.code) == (404, "no_candles")
    assert error.value.details["market"] == {
        "symbol": "TEST", "timeframe": "1m", "fromMs": START_MS, "toMs": START_MS + 5 * M,
        "count": 5}


async def test_load_candles_unknown_market_raises_no_candles(db: Database) -> None:
    with pytest.raises(NoCandles, match="holds no candles at all") as error:
        await load_candles(db, "NOPE", "1m", START_MS, START_MS + M)
    assert error.value.details["market"] is None


async def test_load_candles_over_max_suggests_end(db: Database) -> None:
    await upsert_candles(db, "TEST", "1m", candle_series(10))
    with pytest.raises(TooManyCandles) as error:
        await load_candles(db, "TEST", "1m", START_MS, START_MS + 10 * M, max_candles=4)
    assert error.value.details == {"max": 4, "suggestedEndMs": START_MS + 4 * M}
    exact = await load_candles(db, "TEST", "1m", START_MS, START_MS + 4 * M, max_candles=4)
    assert len(exact.candles) == 4


async def test_load_candles_empty_range_is_invalid(db: Database) -> None:
    with pytest.raises(InvalidInput) as error:
        await load_candles(db, "TEST", "1m", START_MS, START_MS)
    assert error.value.code == "invalid_range"


async def test_list_markets_summarises_each_series(db: Database) -> None:
    assert await list_markets(db) == []
    await upsert_candles(db, "TEST", "1m", candle_series(5))
    await upsert_candles(db, "TEST", "1h", candle_series(3, timeframe="1h"))
    await upsert_candles(db, "ALPHA", "1m", candle_series(2))
    assert [m.to_json() for m in await list_markets(db)] == [
        {"symbol": "ALPHA", "timeframe": "1m", "fromMs": START_MS, "toMs": START_MS + 2 * M,
         "count": 2},
        {"symbol": "TEST", "timeframe": "1h", "fromMs": START_MS,
         "toMs": START_MS + 3 * 3_600_000, "count": 3},
        {"symbol": "TEST", "timeframe": "1m", "fromMs": START_MS, "toMs": START_MS + 5 * M,
         "count": 5},
    ]
    assert await get_market(db, "TEST", "5m") is None
