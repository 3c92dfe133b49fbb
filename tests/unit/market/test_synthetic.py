"""The seeded synthetic market: deterministic, consistent OHLC, on the grid."""

from __future__ import annotations

import pytest

from livesim.errors import InvalidInput
from livesim.market.checks import CandleRules
from livesim.market.synthetic import generate_candles, iter_candles

H = 3_600_000
T0 = 1_704_067_200_000


def test_generate_candles_same_seed_identical_bit_for_bit() -> None:
    first = generate_candles("1m", T0, T0 + 2_000 * 60_000, seed=42)
    second = generate_candles("1m", T0, T0 + 2_000 * 60_000, seed=42)
    assert first == second
    assert [c.close.hex() for c in first] == [c.close.hex() for c in second]


def test_generate_candles_different_seed_different_prices() -> None:
    first = generate_candles("1h", T0, T0 + 100 * H, seed=1)
    second = generate_candles("1h", T0, T0 + 100 * H, seed=2)
    assert [c.ts for c in first] == [c.ts for c in second]
    assert [c.close for c in first] != [c.close for c in second]


def test_generate_candles_longer_range_extends_shorter_unchanged() -> None:
    short = generate_candles("5m", T0, T0 + 50 * 300_000, seed=9)
    long = generate_candles("5m", T0, T0 + 80 * 300_000, seed=9)
    assert long[:50] == short


@pytest.mark.parametrize("timeframe", ["1m", "15m", "4h", "1d"])
def test_generate_candles_ohlc_consistent_and_valid(timeframe: str) -> None:
    rules = CandleRules(timeframe)
    candles = generate_candles(timeframe, T0, T0 + 3_000 * rules.step, seed=5)
    assert len(candles) == 3_000
    for previous, candle in zip(candles, candles[1:], strict=False):
        assert candle.open == previous.close  # a continuous walk
    for candle in candles:
        assert rules.candle_problems(candle) == []
        assert candle.high >= max(candle.open, candle.close)
        assert candle.low <= min(candle.open, candle.close)
        assert candle.low > 0
        assert candle.volume > 0


def test_generate_candles_on_grid_within_half_open_range() -> None:
    candles = generate_candles("1h", T0 + 1, T0 + 5 * H, seed=3)
    assert [c.ts for c in candles] == [T0 + H, T0 + 2 * H, T0 + 3 * H, T0 + 4 * H]


def test_generate_candles_start_price_sets_first_open_and_decimals() -> None:
    candles = generate_candles("1m", T0, T0 + 10 * 60_000, seed=3, start_price=42_000.0)
    assert candles[0].open == 42_000.0
    assert all(round(c.close, 1) == c.close for c in candles)


def test_generate_candles_zero_volatility_is_flat() -> None:
    candles = generate_candles("1d", T0, T0 + 10 * 86_400_000, seed=3, annual_volatility=0.0)
    assert {(c.open, c.high, c.low, c.close) for c in candles} == {(100.0,) * 4}


def test_iter_candles_bad_arguments_are_refused() -> None:
    with pytest.raises(InvalidInput, match="unknown timeframe"):
        next(iter_candles("2d", T0, T0 + H, seed=1))
    with pytest.raises(InvalidInput, match="empty or out of bounds"):
        next(iter_candles("1m", T0, T0, seed=1))
    with pytest.raises(ValueError, match="start_price"):
        next(iter_candles("1m", T0, T0 + H, seed=1, start_price=0.0))
