"""Donchian channel breakout (the Turtle rule): enter on a new N-candle extreme.

Long when the close rises above the highest high of the previous ``entryPeriod``
candles; short (or just flat, without ``allowShort``) when it falls below their
lowest low.  A long is closed when the close falls below the lowest low of the
previous ``exitPeriod`` candles, a short when it rises above their highest high.
The current candle is never part of its own channel, and an entry breakout takes
precedence over an exit signal on the same candle (it implies the exit anyway).
"""

from __future__ import annotations

from dataclasses import dataclass

from livesim.sim.candles import Candle
from livesim.sim.indicators import RollingExtreme
from livesim.sim.intents import Action, OrderIntent
from livesim.sim.schema import param


class Donchian:
    """Breakout of the previous N candles' high/low channel."""

    @dataclass(frozen=True, slots=True)
    class Params:
        """Entry and exit channel lengths, in candles."""

        entry_period: int = param(20, "Candles in the breakout (entry) channel.",
                                  minimum=1, maximum=10_000)
        exit_period: int = param(10, "Candles in the exit channel (a shorter one exits "
                                 "sooner).", minimum=1, maximum=10_000)

        def errors(self) -> list[dict[str, str]]:
            """The channels have no cross-field rule."""
            return []

    def __init__(self, params: Donchian.Params) -> None:
        self.params = params
        self._entry_high = RollingExtreme(params.entry_period, highest=True)
        self._entry_low = RollingExtreme(params.entry_period, highest=False)
        self._exit_high = RollingExtreme(params.exit_period, highest=True)
        self._exit_low = RollingExtreme(params.exit_period, highest=False)
        # Channels of the candles *before* the current one.
        self._channels: tuple[float | None, float | None, float | None, float | None] = (
            None, None, None, None)

    def on_candle(self, candle: Candle) -> list[OrderIntent]:
        """Compare the close with the previous candles' channels, then add this candle."""
        entry_high, entry_low, exit_high, exit_low = self._channels
        self._channels = (self._entry_high.update(candle.high),
                          self._entry_low.update(candle.low),
                          self._exit_high.update(candle.high),
                          self._exit_low.update(candle.low))
        close = candle.close
        n = self.params.entry_period
        if entry_high is not None and close > entry_high:
            return [OrderIntent(Action.BUY, f"close broke above the {n}-candle high")]
        if entry_low is not None and close < entry_low:
            return [OrderIntent(Action.SELL, f"close broke below the {n}-candle low")]
        intents = []
        m = self.params.exit_period
        if exit_low is not None and close < exit_low:
            intents.append(OrderIntent(Action.EXIT_LONG, f"close fell below the {m}-candle low"))
        if exit_high is not None and close > exit_high:
            intents.append(OrderIntent(Action.EXIT_SHORT,
                                       f"close rose above the {m}-candle high"))
        return intents
