"""The same sma-cross, run by backtesting.py 0.6.6 in memory: the yardstick.

Configured to play by SPEC §5, as in ``tests/unit/sim/test_backtesting_agreement.py``
(exclusive orders = our reversal, fill at the next open, commission on entry and
exit, trades open at the end left open).  What is timed is what a backtesting.py
user waits for: ``Backtest(...)`` and ``run()`` on a DataFrame already in memory.
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import pandas as pd
from backtesting import Backtest, Strategy
from backtesting.lib import crossover

from livesim.sim.candles import Candle

INITIAL_CASH = 10_000  # livesim's initialCash default


def _sma(values: Any, n: int) -> Any:
    return pd.Series(values).rolling(n).mean()


class SmaCross(Strategy):  # type: ignore[misc]
    fast = 10
    slow = 30
    size = 0.95

    def init(self) -> None:
        self.fast_sma = self.I(_sma, self.data.Close, self.fast)
        self.slow_sma = self.I(_sma, self.data.Close, self.slow)

    def next(self) -> None:
        if crossover(self.fast_sma, self.slow_sma):
            if not self.position.is_long:
                self.buy(size=self.size)
        elif crossover(self.slow_sma, self.fast_sma) and self.position.is_long:
            self.position.close()


def frame(candles: list[Candle]) -> pd.DataFrame:
    return pd.DataFrame(
        {"Open": [c.open for c in candles], "High": [c.high for c in candles],
         "Low": [c.low for c in candles], "Close": [c.close for c in candles],
         "Volume": [c.volume for c in candles]},
        index=pd.to_datetime([c.ts for c in candles], unit="ms"))


def run_backtesting(data: pd.DataFrame, *, fast: int, slow: int, size: float,
                    commission: float) -> tuple[float, int, float]:
    """One in-memory run; returns (seconds, closed trades, final equity)."""
    with warnings.catch_warnings():
        # what we ask of it on purpose (trades left open at the end), and a pandas
        # deprecation inside its stats
        warnings.simplefilter("ignore")
        started = time.perf_counter()
        bt = Backtest(data, SmaCross, cash=INITIAL_CASH, commission=commission, spread=0.0,
                      exclusive_orders=True, trade_on_close=False, finalize_trades=False)
        stats = bt.run(fast=fast, slow=slow, size=size)
        elapsed = time.perf_counter() - started
    return elapsed, int(stats["# Trades"]), float(stats["Equity Final [$]"])
