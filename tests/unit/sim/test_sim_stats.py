"""``session_finished`` statistics on hand-computed equity curves."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable

import pytest

from livesim.sim.candles import Candle
from livesim.sim.engine import SessionEngine, build_engine
from livesim.sim.events import Event, canonical_json
from livesim.sim.intents import Action

Bars = Callable[..., list[Candle]]
Replay = Callable[..., tuple[SessionEngine, list[list[Event]]]]


def flat(price: float) -> tuple[float, float, float, float]:
    return (price, price, price, price)


def test_stats_no_candles_has_nulls_for_undefined_ratios() -> None:
    engine = build_engine("sma-cross", {}, timeframe="1h", candle_count=0)
    stats = engine.stats()
    assert stats == {
        "finalEquity": 10_000.0, "returnPct": 0.0, "trades": 0, "winRatePct": None,
        "profitFactor": None, "maxDrawdownPct": 0.0, "sharpe": None, "exposurePct": None,
        "commissions": 0.0, "buyAndHoldReturnPct": None}
    canonical_json(stats)


def test_stats_long_held_curve_matches_hand_computation(replay: Replay,
                                                        make_bars: Bars) -> None:
    # 10 units at 100 (fill at close), then closes 110, 99, 99: equity 1000, 1100, 990, 990.
    candles = make_bars(flat(100), flat(110), flat(99), flat(99))
    engine, _ = replay(candles, {0: Action.BUY}, initialCash=1000, fill="close")
    stats = engine.stats()
    returns = [0.0, 0.1, 990 / 1100 - 1, 0.0]
    expected_sharpe = (statistics.mean(returns) / statistics.stdev(returns)
                       * math.sqrt(365 * 24 * 60))
    assert stats["finalEquity"] == 990.0
    assert stats["returnPct"] == pytest.approx(-1.0)
    assert stats["maxDrawdownPct"] == pytest.approx(10.0)
    assert stats["exposurePct"] == 100.0
    assert stats["buyAndHoldReturnPct"] == pytest.approx(-1.0)
    assert stats["sharpe"] == pytest.approx(expected_sharpe)
    assert (stats["trades"], stats["winRatePct"], stats["profitFactor"]) == (0, None, None)


def test_stats_profit_factor_and_win_rate_count_closed_trades(replay: Replay,
                                                              make_bars: Bars) -> None:
    # Trade 1: 10 @ 100 → 110 (+100). Trade 2: 11 @ 100 → 95 (-55). Trade 3 left open.
    candles = make_bars(flat(100), flat(110), flat(100), flat(95), flat(95), flat(90))
    script = {0: Action.BUY, 1: Action.SELL, 2: Action.BUY, 3: Action.SELL, 4: Action.BUY}
    engine, _ = replay(candles, script, initialCash=1000, fill="close")
    stats = engine.stats()
    assert stats["trades"] == 2
    assert stats["winRatePct"] == 50.0
    assert stats["profitFactor"] == pytest.approx(100 / 55)
    assert stats["exposurePct"] == pytest.approx(100 * 4 / 6)  # long at closes 0, 2, 4, 5


def test_stats_only_winning_trades_profit_factor_is_null(replay: Replay,
                                                         make_bars: Bars) -> None:
    candles = make_bars(flat(100), flat(110), flat(110))
    engine, _ = replay(candles, {0: Action.BUY, 1: Action.SELL}, fill="close")
    assert engine.stats()["profitFactor"] is None
    assert engine.stats()["winRatePct"] == 100.0


def test_stats_constant_equity_sharpe_is_null(replay: Replay, make_bars: Bars) -> None:
    engine, _ = replay(make_bars(flat(100), flat(100), flat(100)), {})
    assert engine.stats()["sharpe"] is None


def test_stats_sharpe_annualised_by_timeframe() -> None:
    candles = [Candle(i * 86_400_000, p, p, p, p, 1.0)
               for i, p in enumerate([100.0, 101.0, 99.0, 104.0, 103.0])]
    sharpe = {}
    for timeframe in ("1h", "1d"):
        engine = build_engine("buy-and-hold", {"fill": "close"}, timeframe=timeframe,
                              candle_count=len(candles))
        for candle in candles:
            engine.step(candle)
        sharpe[timeframe] = engine.stats()["sharpe"]
    assert sharpe["1h"] == pytest.approx(sharpe["1d"] * math.sqrt(24))
