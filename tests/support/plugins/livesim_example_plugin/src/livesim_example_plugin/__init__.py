"""An example strategy plugin for livesim: buy dips with limit orders, exit on a target.

Installed with ``pip install tests/support/plugins/livesim_example_plugin``, its entry point
(``dip-buyer`` in the ``livesim.strategies`` group) makes it a livesim profile.
"""

from __future__ import annotations

from dataclasses import dataclass

from livesim.sim.candles import Candle
from livesim.sim.intents import Action, OrderIntent
from livesim.sim.schema import param


class DipBuyer:
    """Buy a dip: a limit buy below each close, with a take-profit above the limit."""

    @dataclass(frozen=True, slots=True)
    class Params:
        """How deep a dip to wait for, how long, and the target."""

        dip_pct: float = param(1.0, "Place the buy limit this many percent below the close.",
                               minimum=0, maximum=50, min_exclusive=True)
        target_pct: float = param(2.0, "Take profit this many percent above the limit.",
                                  minimum=0, maximum=1_000, min_exclusive=True)
        patience: int = param(3, "Candles the limit order waits before it expires.",
                              minimum=1, maximum=1_000)

        def errors(self) -> list[dict[str, str]]:
            """No cross-field rules."""
            return []

    def __init__(self, params: DipBuyer.Params) -> None:
        self.params = params
        self._waiting = 0

    def on_candle(self, candle: Candle) -> list[OrderIntent]:
        """Every ``patience`` candles, place a fresh buy limit under the close."""
        if self._waiting:
            self._waiting -= 1
            return []
        p = self.params
        self._waiting = p.patience - 1
        limit = round(candle.close * (1.0 - p.dip_pct / 100.0), 8)
        return [OrderIntent(Action.BUY, f"buy a {p.dip_pct:g}% dip", order_type="limit",
                            limit_price=limit,
                            take_profit=round(limit * (1.0 + p.target_pct / 100.0), 8),
                            expires_after_candles=p.patience)]
