"""Coarser timeframes made from finer candles, checked against pandas' resample."""

from __future__ import annotations

import pandas as pd
import pytest

from livesim.db.bridge import Database
from livesim.errors import Conflict
from livesim.market.aggregate import aggregate, coarser_targets, finer_sources
from livesim.market.commands import import_csv
from livesim.market.store import NoCandles, TooManyCandles, load_candles, upsert_candles
from livesim.market.synthetic import generate_candles
from livesim.sim.candles import TIMEFRAMES, Candle

M = 60_000
T0 = 1_704_067_200_000  # 2024-01-01T00:00:00Z
DAY = 86_400_000


def pandas_resample(candles: list[Candle], source: str, target: str) -> list[Candle]:
    frame = pd.DataFrame([c.to_payload() for c in candles])
    frame.index = pd.to_datetime(frame.pop("ts"), unit="ms", utc=True)
    rule = f"{TIMEFRAMES[target] // M}min"
    grouped = frame.resample(rule, label="left", closed="left")
    bars = grouped.agg({"open": "first", "high": "max", "low": "min", "close": "last",
                        "volume": "sum"})
    complete = grouped["open"].count() == TIMEFRAMES[target] // TIMEFRAMES[source]
    bars = bars[complete]
    return [Candle(int(ts.value // 1_000_000), *map(float, row))
            for ts, row in zip(bars.index, bars.itertuples(index=False), strict=True)]


def rows(candles: list[Candle]) -> list[tuple[int, float, float, float, float, float]]:
    return [(c.ts, c.open, c.high, c.low, c.close, c.volume) for c in candles]


def assert_same(ours: list[Candle], theirs: list[Candle]) -> None:
    assert [c.ts for c in ours] == [c.ts for c in theirs]
    for a, b in zip(ours, theirs, strict=True):
        assert (a.open, a.high, a.low, a.close) == (b.open, b.high, b.low, b.close)
        assert a.volume == pytest.approx(b.volume, rel=1e-12)


def holed_minutes() -> list[Candle]:
    # two days of 1m with holes: one minute, a run crossing an hour, the last bar
    candles = generate_candles("1m", T0, T0 + 2 * DAY, seed=11)
    holes = {T0 + 7 * M, *range(T0 + 118 * M, T0 + 123 * M, M), T0 + 2 * DAY - M}
    return [c for c in candles if c.ts not in holes]


@pytest.mark.parametrize("target", ["3m", "5m", "15m", "30m", "1h", "4h", "1d"])
def test_aggregate_1m_matches_pandas_resample_and_drops_incomplete_buckets(
        target: str) -> None:
    candles = holed_minutes()
    ours = aggregate(rows(candles), M, TIMEFRAMES[target])
    assert_same(ours, pandas_resample(candles, "1m", target))


def test_aggregate_bucket_missing_one_bar_is_left_out() -> None:
    candles = generate_candles("1m", T0, T0 + 15 * M, seed=2)
    ours = aggregate(rows(candles[:7] + candles[8:]), M, 5 * M)
    assert [c.ts for c in ours] == [T0, T0 + 10 * M]
    first = candles[:5]
    assert ours[0] == Candle(T0, first[0].open, max(c.high for c in first),
                             min(c.low for c in first), first[-1].close,
                             sum(c.volume for c in first))


def test_aggregate_target_not_a_multiple_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot be made"):
        aggregate([], 2 * M, 5 * M)


def test_finer_sources_coarsest_first_and_coarser_targets_include_itself() -> None:
    assert finer_sources("1h") == ["30m", "15m", "5m", "3m", "1m"]
    assert finer_sources("1m") == []
    assert coarser_targets("4h") == ["4h", "12h", "1d"]


async def test_load_candles_5m_over_1m_market_matches_pandas_with_gaps(db: Database) -> None:
    candles = holed_minutes()
    await upsert_candles(db, "AGG", "1m", candles)
    loaded = await load_candles(db, "AGG", "5m", T0, T0 + 2 * DAY)
    assert loaded.source_timeframe == "1m"
    assert_same(loaded.candles, pandas_resample(candles, "1m", "5m"))
    # the incomplete buckets are the coarse market's gaps
    assert loaded.gaps == [
        {"fromMs": T0 + 5 * M, "toMs": T0 + 10 * M, "missing": 1},
        {"fromMs": T0 + 115 * M, "toMs": T0 + 125 * M, "missing": 2},
        {"fromMs": T0 + 2 * DAY - 5 * M, "toMs": T0 + 2 * DAY, "missing": 1}]


async def test_load_candles_prefers_stored_timeframe_then_coarsest_finer(db: Database) -> None:
    minutes = generate_candles("1m", T0, T0 + DAY, seed=5)
    await upsert_candles(db, "AGG", "1m", minutes)
    fives = aggregate(rows(minutes), M, 5 * M)
    await upsert_candles(db, "AGG", "15m", aggregate(rows(minutes), M, 15 * M))
    hourly = await load_candles(db, "AGG", "1h", T0, T0 + DAY)
    assert hourly.source_timeframe == "15m"
    assert_same(hourly.candles, aggregate(rows(minutes), M, 60 * M))
    stored = await load_candles(db, "AGG", "15m", T0, T0 + DAY)
    assert stored.source_timeframe == "15m"
    derived = await load_candles(db, "AGG", "5m", T0 + 3 * M, T0 + 32 * M)
    assert [c.ts for c in derived.candles] == [c.ts for c in fives[1:7]]


async def test_load_candles_derived_over_max_suggests_end(db: Database) -> None:
    await upsert_candles(db, "AGG", "1m", generate_candles("1m", T0, T0 + DAY, seed=5))
    with pytest.raises(TooManyCandles) as error:
        await load_candles(db, "AGG", "1h", T0, T0 + DAY, max_candles=4)
    assert error.value.details["suggestedEndMs"] == T0 + 4 * 3_600_000


async def test_load_candles_no_finer_market_is_no_candles(db: Database) -> None:
    await upsert_candles(db, "AGG", "1h", generate_candles("1h", T0, T0 + DAY, seed=5))
    with pytest.raises(NoCandles):
        await load_candles(db, "AGG", "5m", T0, T0 + DAY)


async def test_import_under_a_live_derived_session_is_market_in_use(db: Database) -> None:
    data = "".join(f"{c.ts},{c.open!r},{c.high!r},{c.low!r},{c.close!r},{c.volume!r}\n"
                   for c in generate_candles("1m", T0, T0 + 60 * M, seed=5)).encode()
    await import_csv(db, data, "AGG", "1m")
    await db.execute_sql(
        "INSERT INTO sim_sessions (id, user_id, profile_slug, symbol, timeframe, start_ms,"
        " end_ms, speed, config, status) VALUES (gen_random_uuid(), 'u', 'sma-cross', 'AGG',"
        " '15m', $1, $2, '60', '{}', 'running')", T0, T0 + 60 * M)
    lines = data.split(b"\n")
    lines[0] = b",".join([*lines[0].split(b",")[:5], b"999.0"])  # another volume
    with pytest.raises(Conflict) as error:
        await import_csv(db, b"\n".join(lines), "AGG", "1m")
    assert error.value.code == "market_in_use"
