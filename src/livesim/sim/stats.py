"""Summary statistics for ``session_finished`` / ``session_stopped``, built incrementally.

Definitions (SPEC §5 names; where the spec is silent, the choice is written here):

* ``finalEquity``: the last ``equity`` event's equity (``initialCash`` before any
  candle); an open trade is marked at the last close without exit commission.
* ``returnPct``: ``(finalEquity / initialCash - 1) × 100``.
* ``trades``, ``winRatePct``, ``profitFactor``: closed trades only.  A win has pnl > 0.
  ``profitFactor`` = gross profit / gross loss.
* ``maxDrawdownPct``: largest ``drawdownPct`` of any candle, a positive percentage
  of the running equity peak (which starts at ``initialCash``).
* ``sharpe``: mean / sample standard deviation of per-candle equity returns (the first
  one against ``initialCash``), times ``sqrt(candles per year)``, with a 365-day year
  (the markets we replay trade around the clock) and a zero risk-free rate.
* ``exposurePct``: share of candles that closed with a position open.
* ``commissions``: all commission paid, on closed and open trades.
* ``buyAndHoldReturnPct``: ``(last close / first close - 1) × 100``, as backtesting.py.

A ratio without a defined value is ``null``, never NaN or infinity: ``winRatePct``
and ``profitFactor`` with no closed trade, ``profitFactor`` with no losing trade,
``sharpe`` with fewer than two returns or zero volatility, ``exposurePct`` and
``buyAndHoldReturnPct`` before the first candle.  A return whose previous equity
was not positive is undefined and left out of the Sharpe ratio.
"""

from __future__ import annotations

import math
from typing import Any

from livesim.sim.portfolio import Portfolio

YEAR_MS = 365 * 24 * 60 * 60 * 1000


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


class StatsTracker:
    """Running aggregates of the equity curve (O(1) per candle, O(1) memory)."""

    __slots__ = ("_periods_per_year", "candles", "candles_in_position", "max_drawdown_pct",
                 "first_close", "last_close", "last_equity", "_n", "_mean", "_m2")

    def __init__(self, initial_cash: float, timeframe_ms: int) -> None:
        self._periods_per_year = YEAR_MS / timeframe_ms
        self.candles = 0
        self.candles_in_position = 0
        self.max_drawdown_pct = 0.0
        self.first_close: float | None = None
        self.last_close: float | None = None
        self.last_equity = initial_cash
        # Welford's running mean and sum of squared deviations of per-candle returns.
        self._n = 0
        self._mean = 0.0
        self._m2 = 0.0

    def record(self, equity: float, drawdown_pct: float, in_position: bool,
               close: float) -> None:
        """Add one candle's mark."""
        if self.first_close is None:
            self.first_close = close
        self.last_close = close
        self.candles += 1
        if in_position:
            self.candles_in_position += 1
        if drawdown_pct > self.max_drawdown_pct:
            self.max_drawdown_pct = drawdown_pct
        prev = self.last_equity
        self.last_equity = equity
        if prev > 0.0:
            ret = equity / prev - 1.0
            self._n += 1
            delta = ret - self._mean
            self._mean += delta / self._n
            self._m2 += delta * (ret - self._mean)

    def sharpe(self) -> float | None:
        """Annualised Sharpe ratio of per-candle returns, or None when undefined."""
        if self._n < 2:
            return None
        std = math.sqrt(self._m2 / (self._n - 1))
        if std == 0.0:
            return None
        return _finite(self._mean / std * math.sqrt(self._periods_per_year))

    def summary(self, portfolio: Portfolio) -> dict[str, Any]:
        """The ``stats`` payload of the terminal events."""
        initial = portfolio.initial_cash
        final = self.last_equity
        trades = portfolio.closed_trades
        win_rate = portfolio.winning_trades / trades * 100.0 if trades else None
        profit_factor = (portfolio.gross_profit / portfolio.gross_loss
                         if trades and portfolio.gross_loss > 0.0 else None)
        exposure = (self.candles_in_position / self.candles * 100.0 if self.candles else None)
        first, last = self.first_close, self.last_close
        buy_hold = (last / first - 1.0) * 100.0 if first and last is not None else None
        return {
            "finalEquity": final,
            "returnPct": _finite((final / initial - 1.0) * 100.0),
            "trades": trades,
            "winRatePct": win_rate,
            "profitFactor": None if profit_factor is None else _finite(profit_factor),
            "maxDrawdownPct": self.max_drawdown_pct,
            "sharpe": self.sharpe(),
            "exposurePct": exposure,
            "commissions": portfolio.commissions,
            "buyAndHoldReturnPct": None if buy_hold is None else _finite(buy_hold),
        }
