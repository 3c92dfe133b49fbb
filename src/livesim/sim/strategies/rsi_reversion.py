"""RSI mean reversion: buy when RSI falls into oversold, sell when it rises into overbought.

Signals fire when the RSI *enters* a zone (was outside it on the previous candle),
not on every candle spent inside, so a stop-loss exit is not immediately re-entered.
"""

from __future__ import annotations

from dataclasses import dataclass

from livesim.sim.candles import Candle
from livesim.sim.indicators import WilderRsi
from livesim.sim.intents import Action, OrderIntent
from livesim.sim.schema import param


class RsiReversion:
    """Wilder RSI of closes with oversold/overbought thresholds."""

    @dataclass(frozen=True, slots=True)
    class Params:
        """RSI period and the two thresholds."""

        period: int = param(14, "Candles in the Wilder-smoothed RSI of closes.",
                            minimum=2, maximum=1_000)
        oversold: float = param(30.0, "RSI level below which the market is oversold: buy.",
                                minimum=0, maximum=100, min_exclusive=True,
                                max_exclusive=True)
        overbought: float = param(70.0, "RSI level above which the market is overbought: "
                                  "sell (short when allowShort).", minimum=0, maximum=100,
                                  min_exclusive=True, max_exclusive=True)

        def errors(self) -> list[dict[str, str]]:
            """The oversold level must lie below the overbought level."""
            if self.oversold >= self.overbought:
                return [{"field": "oversold", "message": "must be less than overbought"}]
            return []

    def __init__(self, params: RsiReversion.Params) -> None:
        self.params = params
        self._rsi = WilderRsi(params.period)
        self._prev: float | None = None

    def on_candle(self, candle: Candle) -> list[OrderIntent]:
        """BUY on entering the oversold zone, SELL on entering the overbought zone."""
        rsi = self._rsi.update(candle.close)
        if rsi is None:
            return []
        prev, self._prev = self._prev, rsi
        p = self.params
        if rsi < p.oversold and (prev is None or prev >= p.oversold):
            return [OrderIntent(Action.BUY, f"RSI entered oversold (< {p.oversold:g})")]
        if rsi > p.overbought and (prev is None or prev <= p.overbought):
            return [OrderIntent(Action.SELL, f"RSI entered overbought (> {p.overbought:g})")]
        return []
