"""Indicators and the four strategies, on series small enough to check by hand."""

from __future__ import annotations

import random

import pandas as pd
import pytest

from livesim.sim.candles import Candle
from livesim.sim.indicators import RollingExtreme, RollingMean, WilderRsi
from livesim.sim.intents import Action
from livesim.sim.strategies.buy_hold import BuyHold
from livesim.sim.strategies.donchian import Donchian
from livesim.sim.strategies.rsi_reversion import RsiReversion
from livesim.sim.strategies.sma_cross import SmaCross


def closes(*values: float) -> list[Candle]:
    return [Candle(i * 60_000, v, v, v, v, 1.0) for i, v in enumerate(values)]


def actions(strategy: SmaCross | RsiReversion | Donchian | BuyHold,
            candles: list[Candle]) -> list[list[Action]]:
    return [[intent.action for intent in strategy.on_candle(c)] for c in candles]


@pytest.mark.parametrize("period", [1, 2, 3, 10, 30])
def test_rolling_mean_random_walk_with_flat_runs_equals_pandas_bit_for_bit(
        period: int) -> None:
    rng = random.Random(period)
    values = [round(100 + rng.gauss(0, 5), 2) for _ in range(2_000)]
    values[500:600] = [100.1] * 100  # a flat market must average to exactly 100.1
    expected = pd.Series(values).rolling(period).mean().tolist()
    mean = RollingMean(period)
    got = [mean.update(v) for v in values]
    assert got[:period - 1] == [None] * (period - 1)
    assert got[period - 1:] == expected[period - 1:]


@pytest.mark.parametrize(("period", "highest"), [(1, True), (3, True), (3, False), (7, False)])
def test_rolling_extreme_random_values_equals_brute_force(period: int, highest: bool) -> None:
    rng = random.Random(period)
    values = [float(rng.randint(0, 20)) for _ in range(500)]
    extreme = RollingExtreme(period, highest=highest)
    pick = max if highest else min
    for i, value in enumerate(values):
        got = extreme.update(value)
        assert got == (pick(values[i - period + 1:i + 1]) if i >= period - 1 else None)


def test_wilder_rsi_period_two_matches_hand_computation() -> None:
    rsi = WilderRsi(2)
    # Changes +1, -1, +2: first averages 0.5 / 0.5 (RSI 50), then
    # gain (0.5 + 2) / 2 = 1.25, loss 0.5 / 2 = 0.25, RS 5 → 100 - 100 / 6.
    assert [rsi.update(c) for c in (10.0, 11.0, 10.0, 12.0)] == [
        None, None, 50.0, pytest.approx(100 - 100 / 6)]


def test_wilder_rsi_without_losses_is_100_and_flat_is_50() -> None:
    rising, flat = WilderRsi(3), WilderRsi(3)
    assert [rising.update(c) for c in (1.0, 2.0, 3.0, 4.0)][-1] == 100.0
    assert [flat.update(c) for c in (1.0, 1.0, 1.0, 1.0)][-1] == 50.0


def test_sma_cross_strict_cross_up_and_down_emit_buy_and_sell() -> None:
    # fast=1 is the close, slow=2 the mean of two closes: fast > slow iff the close rose.
    strategy = SmaCross(SmaCross.Params(fast=1, slow=2))
    assert actions(strategy, closes(10, 9, 10, 9)) == [[], [], [Action.BUY], [Action.SELL]]


def test_sma_cross_touch_then_move_is_not_a_cross() -> None:
    strategy = SmaCross(SmaCross.Params(fast=1, slow=2))
    # below (9 < 9.5), equal (9 == 9), above (10 > 9.5): equality is not a cross.
    assert actions(strategy, closes(10, 9, 9, 10)) == [[], [], [], []]


def test_sma_cross_first_ready_candle_never_signals() -> None:
    strategy = SmaCross(SmaCross.Params(fast=2, slow=3))
    assert actions(strategy, closes(1, 2, 3, 4, 5)) == [[]] * 5


def test_rsi_reversion_signals_on_entering_a_zone_only_once() -> None:
    strategy = RsiReversion(RsiReversion.Params(period=2, oversold=30, overbought=70))
    result = actions(strategy, closes(10, 11, 10, 9, 8, 7, 8, 9, 10, 11))
    assert result[3] == [Action.BUY]  # RSI falls below 30 here...
    assert result[4] == result[5] == []  # ...and staying below is no new signal
    assert Action.SELL in [a for step in result[6:] for a in step]


def test_donchian_breakout_compares_with_previous_candles_only() -> None:
    strategy = Donchian(Donchian.Params(entry_period=2, exit_period=1))
    candles = [Candle(i, o, h, lo, c, 1.0) for i, (o, h, lo, c) in enumerate([
        (10, 11, 9, 10), (10, 11, 9, 10),
        (10, 12, 9, 11.5),  # 11.5 > 11, the highest high of the two candles before
        (11, 12, 8.5, 11),  # inside both channels (entry 9..12, exit 9..12)
        (11, 11, 7, 8),     # 8 < 8.5, the entry low: a breakout wins over the exit
    ])]
    assert actions(strategy, candles) == [[], [], [Action.BUY], [], [Action.SELL]]


def test_donchian_exit_channel_emits_exit_intents() -> None:
    strategy = Donchian(Donchian.Params(entry_period=5, exit_period=1))
    candles = [Candle(i, o, h, lo, c, 1.0) for i, (o, h, lo, c) in enumerate([
        (10, 15, 5, 10), (10, 11, 9, 10),
        (10, 10.5, 8.5, 8.8),  # 8.8 < 9, the previous low
        (9, 11, 8.9, 10.6),    # 10.6 > 10.5, the previous high
    ])]
    assert actions(strategy, candles) == [[], [], [Action.EXIT_LONG], [Action.EXIT_SHORT]]


def test_buy_hold_buys_on_first_candle_only() -> None:
    strategy = BuyHold(BuyHold.Params())
    assert actions(strategy, closes(1, 2, 3)) == [[Action.BUY], [], []]
