"""SMA crossover: long when the fast SMA crosses above the slow one, short/flat below.

The cross is strict (SPEC §5): fast was below slow on the previous candle and is
above it on this one, or the reverse.  Touching (equality) on either candle is not
a cross, exactly like backtesting.py's ``crossover``.
"""

from __future__ import annotations

from dataclasses import dataclass

from livesim.sim.candles import Candle
from livesim.sim.indicators import RollingMean
from livesim.sim.intents import Action, OrderIntent
from livesim.sim.schema import param

_UP = [OrderIntent(Action.BUY, "fast SMA crossed above slow SMA")]
_DOWN = [OrderIntent(Action.SELL, "fast SMA crossed below slow SMA")]


class SmaCross:
    """Fast/slow simple-moving-average crossover on closes."""

    @dataclass(frozen=True, slots=True)
    class Params:
        """Periods of the two averages, in candles."""

        fast: int = param(10, "Candles in the fast simple moving average of closes.",
                          minimum=1, maximum=10_000)
        slow: int = param(30, "Candles in the slow simple moving average of closes.",
                          minimum=2, maximum=10_000)

        def errors(self) -> list[dict[str, str]]:
            """The fast average must be shorter than the slow one."""
            if self.fast >= self.slow:
                return [{"field": "fast", "message": "must be less than slow"}]
            return []

    def __init__(self, params: SmaCross.Params) -> None:
        self.params = params
        self._fast = RollingMean(params.fast)
        self._slow = RollingMean(params.slow)
        self._prev_fast = 0.0
        self._prev_slow = 0.0
        self._ready = False

    def on_candle(self, candle: Candle) -> list[OrderIntent]:
        """Update both averages; return a BUY or SELL intent on a strict cross."""
        fast = self._fast.update(candle.close)
        slow = self._slow.update(candle.close)
        if slow is None or fast is None:
            return []
        prev_fast, prev_slow = self._prev_fast, self._prev_slow
        self._prev_fast, self._prev_slow = fast, slow
        if not self._ready:
            self._ready = True
            return []
        if prev_fast < prev_slow and fast > slow:
            return list(_UP)
        if prev_fast > prev_slow and fast < slow:
            return list(_DOWN)
        return []
