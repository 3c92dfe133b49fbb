"""Built-in strategies: plain classes with a frozen ``Params`` and ``on_candle``.

A strategy sees candles one at a time, after they close, and answers with order
intents (:mod:`livesim.sim.intents`).  It holds no account state, reads no clock
and draws no random numbers, so its output is a pure function of the candles.
"""

from __future__ import annotations

from typing import Protocol

from livesim.sim.candles import Candle
from livesim.sim.intents import OrderIntent


class Strategy(Protocol):
    """What the engine needs from a strategy."""

    def on_candle(self, candle: Candle) -> list[OrderIntent]:
        """Intents decided at the close of ``candle`` (usually none or one)."""
        ...


class ParamsLike(Protocol):
    """A strategy's ``Params``: a frozen dataclass that can report cross-field errors."""

    def errors(self) -> list[dict[str, str]]:
        """``[{"field": ..., "message": ...}]`` for rules spanning several keys."""
        ...
