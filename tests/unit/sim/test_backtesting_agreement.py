"""Agreement with backtesting.py 0.6.6 for an SMA crossover under the same rules.

backtesting.py is configured to play by SPEC §5:

* ``exclusive_orders=True``: a new signal closes the open trade first, then opens the
  new one at the same fill price (our reversal);
* ``trade_on_close`` False / True ↔ ``fill: "open"`` / ``"close"``;
* ``commission`` is the same fraction, charged on entry and exit; ``spread=0``;
* sizes are fractions below 1, which backtesting.py turns into whole units exactly
  as we do (``equity × f // (price × (1 + commission))``), sized at the fill;
* ``finalize_trades=False``: a trade open at the end stays open and is marked at the
  last close without exit commission; orders placed on the last bar never fill.

Where the two truly differ (so the tests avoid those settings):

* backtesting.py reads ``size=1`` as *one unit*; our ``sizeFraction: 1`` is all-in.
* its ``spread`` is paid once, on entry; our ``slippageBps`` hits every fill.
* it stops the whole run when equity drops to 0 or below; we keep replaying and
  reject entries with size 0.
* it has no ``fractional`` sizing (units are whole), so fractional runs are not compared.

The strategy guard ``not self.position.is_long`` mirrors our intents: a bullish
signal while already long is a no-op (possible only after the averages touch).

Limit and stop entries (the second half) place the crossover's entry as a buy limit
below, or a buy stop above, the signal close, optionally with an absolute stop-loss
and take-profit; a bearish cross cancels the unfilled entry and closes the long.
backtesting.py runs with ``exclusive_orders`` (a new order cancels the unfilled
ones), which is what a new intent does to a strategy's orders here.  Stop entries
are compared with next-open fills only: with ``trade_on_close`` backtesting.py
prices a triggered stop from the previous close, a documented difference.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pandas as pd
import pytest
from backtesting import Backtest, Strategy
from backtesting.lib import crossover

from livesim.sim.candles import Candle
from livesim.sim.engine import SessionEngine, build_engine
from livesim.sim.events import TradeClosed
from livesim.sim.intents import Action, OrderIntent
from livesim.sim.profiles import resolve_config
from livesim.sim.strategies.sma_cross import SmaCross

pytestmark = [
    # backtesting.py warns about what we ask of it on purpose: trades left open at
    # the end (finalize_trades=False is SPEC's end-of-data rule).
    pytest.mark.filterwarnings("ignore:Some trades remain open at the end of backtest"),
    # backtesting.py 0.6.6 still calls an accessor pandas 3.1 deprecated, in its stats.
    pytest.mark.filterwarnings("ignore:DatetimeIndex.dayofweek is deprecated"),
]

FAST, SLOW = 5, 17
HOUR_MS = 3_600_000


def series(seed: int, n: int) -> list[Candle]:
    """A random walk on a cent grid, with wicks and gaps between close and next open."""
    rng = random.Random(seed)
    price = 100.0
    out = []
    for i in range(n):
        open_ = round(price * (1.0 + rng.gauss(0.0, 0.003)), 2)
        close = round(open_ * (1.0 + rng.gauss(0.0005, 0.02)), 2)
        high = round(max(open_, close) * (1.0 + abs(rng.gauss(0.0, 0.006))), 2)
        low = round(min(open_, close) * (1.0 - abs(rng.gauss(0.0, 0.006))), 2)
        out.append(Candle(1_700_000_000_000 + i * HOUR_MS, open_, high, low, close, 1.0))
        price = close
    return out


def sma(values: Any, n: int) -> Any:
    return pd.Series(values).rolling(n).mean()


class SmaCrossBt(Strategy):  # type: ignore[misc]
    size = 0.95
    allow_short = False

    def init(self) -> None:
        self.fast = self.I(sma, self.data.Close, FAST)
        self.slow = self.I(sma, self.data.Close, SLOW)

    def next(self) -> None:
        if crossover(self.fast, self.slow):
            if not self.position.is_long:
                self.buy(size=self.size)
        elif crossover(self.slow, self.fast):
            if self.allow_short:
                if not self.position.is_short:
                    self.sell(size=self.size)
            elif self.position.is_long:
                self.position.close()


def run_backtesting(candles: list[Candle], *, commission: float, size: float,
                    allow_short: bool, on_close: bool) -> tuple[list[tuple[Any, ...]], float]:
    frame = pd.DataFrame(
        {"Open": [c.open for c in candles], "High": [c.high for c in candles],
         "Low": [c.low for c in candles], "Close": [c.close for c in candles],
         "Volume": [c.volume for c in candles]},
        index=pd.to_datetime([c.ts for c in candles], unit="ms"))
    bt = Backtest(frame, SmaCrossBt, cash=10_000, commission=commission, spread=0.0,
                  exclusive_orders=True, trade_on_close=on_close, finalize_trades=False)
    stats = bt.run(size=size, allow_short=allow_short)
    trades = [
        (int(row.EntryTime.value // 1_000_000), int(row.ExitTime.value // 1_000_000),
         "long" if row.Size > 0 else "short", abs(int(row.Size)), float(row.EntryPrice),
         float(row.ExitPrice), float(row.PnL))
        for row in stats["_trades"].itertuples()
    ]
    return trades, float(stats["Equity Final [$]"])


def run_livesim(candles: list[Candle], *, commission: float, size: float,
                allow_short: bool, on_close: bool) -> tuple[list[tuple[Any, ...]], float]:
    engine = build_engine("sma-cross", {
        "fast": FAST, "slow": SLOW, "commission": commission, "sizeFraction": size,
        "allowShort": allow_short, "fill": "close" if on_close else "open",
    }, timeframe="1h", candle_count=len(candles))
    trades = []
    for candle in candles:
        for event in engine.step(candle):
            if isinstance(event, TradeClosed):
                trades.append((event.entry_ts, event.exit_ts, event.side, event.qty,
                               event.entry_price, event.exit_price, event.pnl))
    return trades, engine.stats()["finalEquity"]


CASES = [
    pytest.param(seed, commission, size, allow_short, on_close,
                 id=f"seed{seed}-c{commission}-f{size}-{'short' if allow_short else 'long'}"
                    f"-{'close' if on_close else 'open'}")
    for seed, commission, size, allow_short, on_close in [
        (1, 0.0, 0.95, False, False),
        (2, 0.002, 0.95, False, False),
        (3, 0.002, 0.5, True, False),
        (4, 0.001, 0.999, True, False),
        (5, 0.002, 0.95, False, True),
        (6, 0.0015, 0.8, True, True),
    ]
]


@pytest.mark.parametrize(("seed", "commission", "size", "allow_short", "on_close"), CASES)
def test_sma_cross_same_rules_as_backtesting_py_same_trades_and_equity(
        seed: int, commission: float, size: float, allow_short: bool, on_close: bool) -> None:
    candles = series(seed, 1_500)
    kwargs = {"commission": commission, "size": size, "allow_short": allow_short,
              "on_close": on_close}
    ours, our_equity = run_livesim(candles, **kwargs)
    theirs, their_equity = run_backtesting(candles, **kwargs)
    assert len(ours) > 20
    assert [t[:4] for t in ours] == [t[:4] for t in theirs]  # times, side, whole units
    assert np.allclose([t[4:] for t in ours], [t[4:] for t in theirs], rtol=0, atol=1e-9)
    # Cash is kept differently (they never debit the purchase), so sums round apart
    # in the last bits only.
    assert our_equity == pytest.approx(their_equity, abs=1e-6)


# -- limit and stop entries ------------------------------------------------------------------

def entry_levels(close: float, entry: str, offset: float,
                 bracket: bool) -> tuple[float, float | None, float | None]:
    """The entry price below (limit) or above (stop) the close, and its SL/TP."""
    price = round(close * (1.0 - offset) if entry == "limit" else close * (1.0 + offset), 2)
    if not bracket:
        return price, None, None
    return price, round(price * 0.97, 2), round(price * 1.05, 2)


class EntryCrossBt(Strategy):  # type: ignore[misc]
    size = 0.95
    entry = "limit"
    offset = 0.01
    bracket = False

    def init(self) -> None:
        self.fast = self.I(sma, self.data.Close, FAST)
        self.slow = self.I(sma, self.data.Close, SLOW)

    def next(self) -> None:
        if crossover(self.fast, self.slow):
            if not self.position.is_long:
                # float(): numpy's round() of a float64 rounds halves differently.
                price, sl, tp = entry_levels(float(self.data.Close[-1]), self.entry,
                                             self.offset, self.bracket)
                where = {"limit": price} if self.entry == "limit" else {"stop": price}
                self.buy(size=self.size, sl=sl, tp=tp, **where)
        elif crossover(self.slow, self.fast):
            for order in self.orders:
                if not order.is_contingent:
                    order.cancel()
            if self.position.is_long:
                self.position.close()


class EntryCross:
    """sma-cross whose bullish signal becomes a limit or stop entry."""

    def __init__(self, entry: str, offset: float, bracket: bool) -> None:
        self.cross = SmaCross(SmaCross.Params(fast=FAST, slow=SLOW))
        self.entry, self.offset, self.bracket = entry, offset, bracket

    def on_candle(self, candle: Candle) -> list[OrderIntent]:
        out = []
        for intent in self.cross.on_candle(candle):
            if intent.action is not Action.BUY:
                out.append(intent)
                continue
            price, sl, tp = entry_levels(candle.close, self.entry, self.offset, self.bracket)
            out.append(OrderIntent(
                Action.BUY, intent.reason, order_type=self.entry,
                limit_price=price if self.entry == "limit" else None,
                stop_price=price if self.entry == "stop" else None, stop_loss=sl,
                take_profit=tp))
        return out


def trades_of_backtesting(stats: Any) -> list[tuple[Any, ...]]:
    return [
        (int(row.EntryTime.value // 1_000_000), int(row.ExitTime.value // 1_000_000),
         "long" if row.Size > 0 else "short", abs(int(row.Size)), float(row.EntryPrice),
         float(row.ExitPrice), float(row.PnL))
        for row in stats["_trades"].itertuples()
    ]


ENTRY_CASES = [
    pytest.param(seed, entry, offset, bracket, commission, on_close,
                 id=f"seed{seed}-{entry}{offset}-{'sltp' if bracket else 'plain'}-c{commission}"
                    f"-{'close' if on_close else 'open'}")
    for seed, entry, offset, bracket, commission, on_close in [
        (11, "limit", 0.005, False, 0.0, False),
        (12, "limit", 0.01, True, 0.002, False),
        (13, "limit", 0.005, True, 0.001, True),
        (14, "stop", 0.005, False, 0.0, False),
        (15, "stop", 0.01, True, 0.002, False),
        (16, "stop", 0.002, True, 0.001, False),
    ]
]


@pytest.mark.filterwarnings("ignore:.*A contingent SL/TP order would execute in the same bar")
@pytest.mark.parametrize(("seed", "entry", "offset", "bracket", "commission", "on_close"),
                         ENTRY_CASES)
def test_limit_and_stop_entries_same_trades_as_backtesting_py(
        seed: int, entry: str, offset: float, bracket: bool, commission: float,
        on_close: bool) -> None:
    candles = series(seed, 1_500)
    frame = pd.DataFrame(
        {"Open": [c.open for c in candles], "High": [c.high for c in candles],
         "Low": [c.low for c in candles], "Close": [c.close for c in candles],
         "Volume": [c.volume for c in candles]},
        index=pd.to_datetime([c.ts for c in candles], unit="ms"))
    bt = Backtest(frame, EntryCrossBt, cash=10_000, commission=commission, spread=0.0,
                  exclusive_orders=True, trade_on_close=on_close, finalize_trades=False)
    stats = bt.run(size=0.95, entry=entry, offset=offset, bracket=bracket)
    theirs = trades_of_backtesting(stats)

    config = resolve_config("sma-cross", {"fast": FAST, "slow": SLOW, "commission": commission,
                                          "sizeFraction": 0.95,
                                          "fill": "close" if on_close else "open"})
    engine = SessionEngine(config, EntryCross(entry, offset, bracket), timeframe="1h",
                           candle_count=len(candles))
    ours = []
    reasons = set()
    for candle in candles:
        for event in engine.step(candle):
            if isinstance(event, TradeClosed):
                ours.append((event.entry_ts, event.exit_ts, event.side, event.qty,
                             event.entry_price, event.exit_price, event.pnl))
            elif event.type == "order_submitted":
                reasons.add(event.payload()["reason"])
    assert len(ours) > 15
    if bracket:  # the levels really were exercised
        assert {"stop loss", "take profit"} <= reasons
    assert [t[:4] for t in ours] == [t[:4] for t in theirs]
    assert np.allclose([t[4:] for t in ours], [t[4:] for t in theirs], rtol=0, atol=1e-9)
    assert engine.stats()["finalEquity"] == pytest.approx(
        float(stats["Equity Final [$]"]), abs=1e-6)
