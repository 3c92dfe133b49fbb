"""Manual: no strategy at all; only outside orders trade the session."""

from __future__ import annotations

from dataclasses import dataclass

from livesim.sim.candles import Candle
from livesim.sim.intents import OrderIntent


class Manual:
    """Never signals: the session is a paper-trading venue for people and bots."""

    @dataclass(frozen=True, slots=True)
    class Params:
        """Manual trading has no parameters of its own."""

        def errors(self) -> list[dict[str, str]]:
            """No cross-field rules."""
            return []

    def __init__(self, params: Manual.Params) -> None:
        self.params = params

    def on_candle(self, candle: Candle) -> list[OrderIntent]:
        """No intents, ever."""
        return []
