"""Buy and hold: buy on the first candle, never sell.

The benchmark every other profile is held against.  With the default next-open
fill the purchase happens at the second candle's open.
"""

from __future__ import annotations

from dataclasses import dataclass

from livesim.sim.candles import Candle
from livesim.sim.intents import Action, OrderIntent


class BuyHold:
    """Go long once, on the first candle, and stay long."""

    @dataclass(frozen=True, slots=True)
    class Params:
        """Buy and hold has no parameters of its own."""

        def errors(self) -> list[dict[str, str]]:
            """No cross-field rules."""
            return []

    def __init__(self, params: BuyHold.Params) -> None:
        self.params = params
        self._bought = False

    def on_candle(self, candle: Candle) -> list[OrderIntent]:
        """BUY on the first candle seen, nothing afterwards."""
        if self._bought:
            return []
        self._bought = True
        return [OrderIntent(Action.BUY, "buy and hold")]
